export const options = { vus: -3, duration: '1s' };
export default function () {}
