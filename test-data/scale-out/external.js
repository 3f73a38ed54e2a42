// The externally-controlled executor cannot be split into segments (k6 refuses it too).
export const options = {
  scenarios: {
    ext: { executor: 'externally-controlled', vus: 2, maxVUs: 4, duration: '10s' },
  },
};

export default function () {}
