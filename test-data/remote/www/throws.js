export const value = 1;
throw new Error('the remote module refuses to load');
