// exact: iterations checks http_reqs
// k6 exit: 0
// GraphQL over HTTP, as k6's examples/graphql.js: a query POSTed as JSON with a Bearer token,
// the first issue read from the answer, then a mutation built from it; plus the answers a
// GraphQL client must handle (an errors document with status 200, a missing token).
import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = { vus: 2, iterations: 4, thresholds: { checks: ['rate==1'] } };

const url = `${__ENV.TARGET}/graphql`;
const headers = { Authorization: 'Bearer conformance-token', 'Content-Type': 'application/json' };

export default function () {
  const query = `
    query FindFirstIssue {
      repository(owner:"grafana", name:"k6") {
        issues(first:1) {
          edges { node { id number title } }
        }
      }
    }`;
  let res = http.post(url, JSON.stringify({ query }), { headers });
  check(res, { 'query 200': (r) => r.status === 200 });
  if (res.status === 200) {
    const issue = JSON.parse(res.body).data.repository.issues.edges[0].node;
    check(issue, { 'one issue read': (i) => typeof i.id === 'string' && i.number > 0 });
    const mutation = `
      mutation AddReactionToIssue {
        addReaction(input:{subjectId:"${issue.id}",content:HOORAY}) {
          reaction { content }
          subject { id }
        }
      }`;
    res = http.post(url, JSON.stringify({ query: mutation }), { headers });
    check(res, {
      'mutation applied': (r) => r.json('data.addReaction.reaction.content') === 'HOORAY',
      'on the issue': (r) => r.json('data.addReaction.subject.id') === issue.id,
    });
  }

  const withVars = http.post(url, JSON.stringify({
    query: 'query Issues($n: Int!) { repository(owner:"grafana", name:"k6") { issues(first: $n) { edges { node { id } } } } }',
    variables: { n: 2 },
  }), { headers });
  check(withVars, { 'variables honoured': (r) => r.json('data.repository.issues.edges.#') === 2 });

  const bad = http.post(url, JSON.stringify({ query: 'mutation { deleteRepository }' }), { headers });
  check(bad, {
    'errors document with 200': (r) => r.status === 200 && r.json('errors.0.message') === 'unknown mutation',
  });
  const anonymous = http.post(url, JSON.stringify({ query }), { headers: { 'Content-Type': 'application/json' } });
  check(anonymous, { 'no token: 401': (r) => r.status === 401 });
  sleep(0.3);
}
