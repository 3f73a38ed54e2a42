// A script that does not parse.
export default function () {
  const x = ;
}
