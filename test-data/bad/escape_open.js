// open() may not leave the test's folder.
const secret = open('../../../../../../../../etc/hostname');
export default function () {}
