// open() through a symlink that points outside the test folder is refused (the test makes the link).
const s = open('./outside');
export default function () { console.log(s.length); }
