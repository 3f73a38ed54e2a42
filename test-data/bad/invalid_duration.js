export const options = { duration: 'ten seconds' };
export default function () {}
