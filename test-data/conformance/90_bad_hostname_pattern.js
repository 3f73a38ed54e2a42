// k6 exit: 104
// A malformed `blockHostnames` pattern is an invalid configuration (exit 104).
export const options = { iterations: 1, blockHostnames: ['*.exa mple.com'] };
export default function () {}
