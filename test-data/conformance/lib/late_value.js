// A module whose value is ready only after a timer: its importer's top-level code runs after it.
export let ready = 'no';
await new Promise((resolve) => setTimeout(resolve, 20));
ready = 'yes';
