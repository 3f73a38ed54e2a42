import ws from 'k6/ws-nope';
export default function () {}
