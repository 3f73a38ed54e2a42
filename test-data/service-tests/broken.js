// Fails in the init context.
throw new Error('broken on purpose');
export default function () {}
