export function fine() {
  return 1;
}
export const broken = ;
