// jslib k6-summary (https://jslib.k6.io/k6-summary/<version>/index.js), built in so handleSummary
// scripts run offline. textSummary returns loadgate's end-of-test text for the data object it was
// given (the same text k6 prints); jUnit renders the thresholds as a JUnit report.

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function textSummary(data, options) {
  const colors = !!(options && options.enableColors);
  const text = data && (colors ? data.__lgTextSummaryColor : data.__lgTextSummary);
  if (typeof text !== 'string') {
    throw new Error('textSummary: pass the data object handleSummary received');
  }
  return text;
}

export function jUnit(data, options) {
  const name = (options && options.name) || 'k6 thresholds';
  const cases = [];
  let failures = 0;
  for (const metric of Object.keys(data.metrics || {})) {
    const thresholds = data.metrics[metric].thresholds || {};
    for (const t of Object.keys(thresholds)) {
      const label = `${esc(metric)} - ${esc(t)}`;
      if (thresholds[t].ok) {
        cases.push(`<testcase name="${label}" />`);
      } else {
        failures++;
        cases.push(`<testcase name="${label}"><failure message="failed" /></testcase>`);
      }
    }
  }
  return `<?xml version="1.0"?>\n<testsuites tests="${cases.length}" failures="${failures}">\n` +
    `<testsuite name="${esc(name)}" tests="${cases.length}" failures="${failures}">\n` +
    cases.join('\n') + '\n</testsuite>\n</testsuites>\n';
}

export default { textSummary, jUnit };
