export const depth = '';
