// exact: iterations checks http_reqs
// k6 exit: 0
// k6/html against the target's /html page (forms, links, lists, data attributes): the Selection
// API (traversal, filtering, attr/text/html/val/data, each/map/get/toArray/index, serialize*),
// element methods of the common and the typed elements, parseHTML of fragments and malformed
// input, res.submitForm (POST and GET forms) and res.clickLink with their errors. Each check
// compares a value's JSON with what k6 1.1 gives; a false check changes the exact `checks` count.
// (k6's cascadia extensions such as :contains() are not part of the selector engine: not tested.)
import http from 'k6/http';
import { check } from 'k6';
import { parseHTML } from 'k6/html';

const T = __ENV.TARGET;
const HOST = T.replace('http://', '');
// One check per value: its JSON (with the target's address as T/HOST) is what k6 1.1 gives.
function eq(label, v, expected) {
  const got = JSON.stringify(v);
  const shown = String(got).split(T).join('T').split(HOST).join('HOST');
  if (!check(null, { [label]: () => shown === expected })) console.log(`${label}: ${shown} !== ${expected}`);
}

export const options = { iterations: 1, thresholds: { checks: ['rate==1'] } };

export default function () {
  const res = http.get(`${T}/html`);
  const doc = res.html();
  eq('url', doc.url === res.url, "true");
  eq('title', doc.find('title').text(), "\"loadgate target: forms & links\"");
  eq('h1.html', doc.find('h1').html(), "\"Forms &amp; &#34;links&#34;\"");
  eq('li.size', doc.find('li').size(), "4");
  eq('li.text', doc.find('ul.items li').text(), "\"onetwothreeand morefour\"");
  eq('li.odd', doc.find('li').filter('.odd').text(), "\"two\"");
  eq('li.not', doc.find('li').not('.odd').size(), "3");
  eq('li.first', doc.find('li').first().text(), "\"one\"");
  eq('li.last', doc.find('li').last().html(), "\"<span>four</span>\"");
  eq('li.eq-1', doc.find('li').eq(-1).attr('data-id'), "\"4\"");
  eq('li.eq9', doc.find('li').eq(9).size(), "0");
  eq('slice', doc.find('li').slice(1, 3).text(), "\"twothreeand more\"");
  eq('slice2', doc.find('li').slice(2).size(), "2");
  eq('next', doc.find('li.odd').next().text(), "\"threeand more\"");
  eq('nextAll', doc.find('li.odd').nextAll().size(), "2");
  eq('prev', doc.find('li.odd').prev().text(), "\"one\"");
  eq('prevAll', doc.find('li.last').prevAll().size(), "3");
  eq('prevAllF', doc.find('li.last').prevAll('.odd').text(), "\"two\"");
  eq('nextUntil', doc.find('li').first().nextUntil('.last').size(), "2");
  eq('prevUntil', doc.find('li.last').prevUntil('.odd').text(), "\"threeand more\"");
  eq('parentsUntil', doc.find('span').parentsUntil('body').size(), "2");
  eq('parent', doc.find('span').parent().attr('data-id'), "\"4\"");
  eq('parents', doc.find('span').parents().size(), "4");
  eq('parentsF', doc.find('span').parents('ul').attr('class'), "\"items\"");
  eq('closest', doc.find('span').closest('li').attr('class'), "\"item last\"");
  eq('siblings', doc.find('li.odd').siblings().size(), "3");
  eq('children', doc.find('ul').children().size(), "4");
  eq('childrenF', doc.find('ul').children('.odd').size(), "1");
  eq('contents', doc.find('ul').contents().size(), "9");
  eq('has', doc.find('li').has('span').attr('data-id'), "\"4\"");
  eq('is', doc.find('li').is('.last'), "true");
  eq('isNot', doc.find('li').is('form'), "false");
  eq('attr.def', doc.find('h1').attr('nope', 'dflt'), "\"dflt\"");
  eq('attr.undef', doc.find('h1').attr('nope'), "undefined");
  eq('data', Object.keys(doc.find('h1').data()).sort().map((k) => [k, doc.find('h1').data()[k]]), "[[\"count\",42],[\"flag\",true],[\"obj\",{\"a\":[1,2]}],[\"userName\",\"ann\"]]");
  eq('data.key', doc.find('h1').data('userName'), "\"ann\"");
  eq('data.count', doc.find('h1').data('count'), "42");
  eq('map', doc.find('li').map((i, s) => i + ':' + s.text()), "[\"0:one\",\"1:two\",\"2:threeand more\",\"3:four\"]");
  const ids = [];
  doc.find('li').each((i, el) => ids.push(el.getAttribute('data-id') + el.nodeName()));
  eq('each', ids, "[\"1li\",\"2li\",\"3li\",\"4li\"]");
  eq('get', doc.find('li').get().length, "4");
  eq('getNeg', doc.find('li').get(-1).textContent(), "\"four\"");
  eq('toArray', doc.find('li').toArray().map((s) => s.attr('data-id')), "[\"1\",\"2\",\"3\",\"4\"]");
  eq('index', doc.find('li.odd').index(), "1");
  eq('indexSel', doc.find('li.odd').index('li'), "1");
  eq('add', doc.find('h1').add('footer').size(), "2");
  eq('end', doc.find('ul').find('li').end().size(), "1");
  eq('find.sel', doc.find('ul').find(doc.find('span')).size(), "1");
  eq('val.user', doc.find('#user').val(), "\"alice\"");
  eq('val.pw', doc.find('input[name=password]').val(), "\"\"");
  eq('val.cb', doc.find('input[name=newsletter]').val(), "\"on\"");
  eq('val.select', doc.find('select[name=colour]').val(), "\"Green\"");
  eq('val.multi', doc.find('select[name=sizes]').val(), "[\"s\",\"l\"]");
  eq('val.textarea', doc.find('textarea').val(), "\"hello &lt;world&gt;\"");
  eq('val.button', doc.find('button').val(), "\"login\"");
  eq('serializeArray', doc.find('#login').serializeArray(), "[{\"name\":\"user\",\"value\":\"alice\"},{\"name\":\"password\",\"value\":\"\"},{\"name\":\"csrf\",\"value\":\"t0k3n\"},{\"name\":\"remember\",\"value\":\"on\"},{\"name\":\"plan\",\"value\":\"pro\"},{\"name\":\"colour\",\"value\":\"Green\"},{\"name\":\"sizes\",\"value\":[\"s\",\"l\"]},{\"name\":\"note\",\"value\":\"hello &lt;world&gt;\"}]");
  eq('serializeObject', Object.entries(doc.find('#login').serializeObject()).sort(), '[["colour","Green"],["csrf","t0k3n"],["note","hello &lt;world&gt;"],["password",""],["plan","pro"],["remember","on"],["sizes",["s","l"]],["user","alice"]]');
  eq('serialize', doc.find('#login').serialize(), "\"colour=Green&csrf=t0k3n&note=hello+%26lt%3Bworld%26gt%3B&password=&plan=pro&remember=on&sizes=s&sizes=l&user=alice\"");
  eq('inputs.serialize', doc.find('input').serialize(), "\"csrf=t0k3n&password=&plan=pro&q=k6+html&remember=on&user=alice\"");
  eq('script', doc.find('script').html(), "\"if (1 &lt; 2) { console.log(&#34;it&#39;s raw&#34;); }\"");
  eq('pre', doc.find('pre').html(), "\"preformatted\"");
  eq('svgns', doc.find('circle').get(0).namespaceURI(), "\"http://www.w3.org/2000/svg\"");
  eq('body.html.len', doc.find('nav').html(), "\"\\n    <a id=\\\"first\\\" href=\\\"/echo?from=link\\\" rel=\\\"next nofollow\\\">first link</a>\\n    <a id=\\\"second\\\" href=\\\"redirect/1#frag\\\" title=\\\"it&#39;s\\\">second <b>link</b></a>\\n    <a name=\\\"anchor-only\\\">no href</a>\\n  \"");
  eq('invalid', doc.find('li[').size(), "0");
  eq('comma', doc.find('h1, footer').size(), "2");
  eq('pseudo', doc.find('li:nth-child(2)').text(), "\"two\"");
  eq('hasPseudo', doc.find('li:has(span)').size(), "1");
  const a = doc.find('#second').get(0);
  eq('a.href', a.href(), "\"T/redirect/1#frag\"");
  eq('a.host', a.host(), "\"HOST\"");
  eq('a.hostname', a.hostname() !== '', "true");
  eq('a.pathname', a.pathname(), "\"/redirect/1\"");
  eq('a.hash', a.hash(), "\"#frag\"");
  eq('a.protocol', a.protocol(), "\"http\"");
  eq('a.text', a.text(), "\"second link\"");
  eq('a.toString', String(a.href() === a.toString()), "\"true\"");
  eq('a.relList', doc.find('#first').get(0).relList(), "[\"next\",\"nofollow\"]");
  eq('a.search', doc.find('#first').get(0).search(), "\"?from=link\"");
  const h1 = doc.find('h1').get(0);
  eq('h1.id', h1.id(), "\"top\"");
  eq('h1.classList', h1.classList(), "[\"title\",\"main\"]");
  eq('h1.className', h1.className(), "\"title main\"");
  eq('h1.attrs', Object.keys(h1.attributes()).sort(), "[\"class\",\"data-count\",\"data-flag\",\"data-obj\",\"data-user-name\",\"id\"]");
  eq('h1.attrNode', h1.getAttributeNode('id').value, "\"top\"");
  eq('h1.hasAttribute', h1.hasAttribute('data-flag'), "true");
  eq('h1.nodeType', h1.nodeType(), "1");
  eq('h1.innerHTML', h1.innerHTML(), "\"Forms &amp; &#34;links&#34;\"");
  eq('h1.firstChild', h1.firstChild().nodeValue(), "\"Forms & \\\"links\\\"\"");
  eq('h1.firstChild.type', h1.firstChild().nodeType(), "3");
  eq('h1.parent', h1.parentElement().nodeName(), "\"body\"");
  eq('h1.owner', h1.ownerDocument().nodeName(), "\"#document\"");
  eq('h1.next', h1.nextElementSibling().nodeName(), "\"nav\"");
  eq('h1.nextSibling', h1.nextSibling().nodeName(), "\"#text\"");
  eq('h1.matches', h1.matches('.title'), "true");
  eq('h1.lang', h1.lang(), "undefined");
  eq('html.lang', doc.find('html').get(0).lang(), "\"en\"");
  eq('body.childCount', doc.find('body').get(0).childElementCount(), "9");
  eq('ul.children', doc.find('ul').get(0).children().length, "4");
  eq('ul.childNodes', doc.find('ul').get(0).childNodes().length, "9");
  eq('qs', doc.find('ul').get(0).querySelector('.odd').textContent(), "\"two\"");
  eq('qsa', doc.find('body').get(0).querySelectorAll('input').length, "10");
  eq('byClass', doc.find('body').get(0).getElementsByClassName('item').length, "4");
  eq('byTag', doc.find('body').get(0).getElementsByTagName('a').length, "3");
  eq('contains', doc.find('ul').get(0).contains(doc.find('span').get(0)), "true");
  eq('same', doc.find('h1').get(0).isSameNode(doc.find('#top').get(0)), "true");
  eq('equal', doc.find('li').get(0).isEqualNode(doc.find('li').get(0)), "false");
  eq('toString', String(h1.toString()), "\"[object html.Node]\"");
  const form = doc.find('#login').get(0);
  eq('form.action', form.action(), "\"T/echo\"");
  eq('form.method', form.method(), "\"post\"");
  eq('form.elements', form.elements().length, "12");
  eq('form.length', form.length(), "12");
  eq('form.enctype', form.enctype(), "\"application/x-www-form-urlencoded\"");
  const user = doc.find('#user').get(0);
  eq('input.name', user.name(), "\"user\"");
  eq('input.type', user.type(), "\"text\"");
  eq('input.value', user.value(), "\"alice\"");
  eq('input.form', user.form().id(), "\"login\"");
  eq('input.labels', user.labels().length, "1");
  eq('input.maxLength', user.maxLength(), "-1");
  eq('cb.checked', doc.find('input[name=remember]').get(0).checked(), "true");
  const sel = doc.find('select[name=sizes]').get(0);
  eq('select.options', sel.options().length, "3");
  eq('select.selectedIndex', sel.selectedIndex(), "0");
  eq('select.type', sel.type(), "\"select-multiple\"");
  eq('select.value', sel.value(), "\"s\"");
  eq('option.index', doc.find('option').eq(1).get(0).index(), "1");
  eq('option.value', doc.find('option').eq(1).get(0).value(), "\"Green\"");
  eq('option.selected', doc.find('option').eq(1).get(0).selected(), "true");
  eq('label.control', doc.find('label').get(0).control().id(), "\"user\"");
  eq('label.htmlFor', doc.find('label').get(0).htmlFor(), "\"user\"");
  eq('td.colSpan', doc.find('td').get(0).colSpan(), "2");
  eq('td.cellIndex', doc.find('td').get(0).cellIndex(), "1");
  eq('tr.cells', doc.find('tr').get(0).cells().length, "2");
  eq('textarea.value', doc.find('textarea').get(0).value(), "\"\"");
  eq('button.type', doc.find('button').get(0).type(), "\"submit\"");
  eq('link.relList', doc.find('link').get(0).relList(), "[\"stylesheet\",\"alternate\"]");
  eq('link.href', doc.find('link').get(0).href(), "\"T/static/site.css\"");

  const frag = parseHTML('<div><p>a</p><p class="x">b</p></div>text<!--c-->');
  eq('frag.url', frag.url, "\"\"");
  eq('frag.text', frag.text(), "\"abtext\"");
  eq('frag.html', frag.html(), "\"<html><head></head><body><div><p>a</p><p class=\\\"x\\\">b</p></div>text<!--c--></body></html>\"");
  eq('frag.find', frag.find('p.x').text(), "\"b\"");
  eq('frag.relhref', parseHTML('<a href="/x?y=1">l</a>').find('a').get(0).href(), "\"/x?y=1\"");
  eq('frag.comment', frag.find('body').contents().last().get(0).nodeValue(), "\"\"");
  eq('frag.commentType', frag.find('body').contents().last().get(0).nodeType(), "8");
  eq('empty', parseHTML('').html(), "\"<html><head></head><body></body></html>\"");
  eq('malformed', parseHTML('<div><span>x</div></p><b>y').find('body').html(), "\"<div><span>x</span></div><p></p><b>y</b>\"");
  eq('empty.attr', parseHTML('').find('a').attr('href'), "undefined");
  eq('empty.text', parseHTML('').find('a').text(), "\"\"");
  eq('empty.html', parseHTML('').find('a').html(), "\"\"");
  eq('empty.val', parseHTML('').find('a').val(), "undefined");
  eq('empty.get', parseHTML('').find('a').get(0), "undefined");

  const r2 = res.submitForm({ formSelector: '#login', fields: { user: 'bob' } });
  eq('submit.status', r2.status, "200");
  eq('submit.method', r2.json().method, "\"POST\"");
  eq('submit.body', r2.json().body, "\"action=login&colour=Green&csrf=t0k3n&note=hello+%26lt%3Bworld%26gt%3B&password=&plan=pro&remember=on&sizes=%5Bs+l%5D&user=bob\"");
  const r3 = res.submitForm({ formSelector: '#search', submitSelector: 'input[type=submit]' });
  eq('submitGet.query', r3.json().query, "{\"go\":\"Search\",\"q\":\"k6 html\"}");
  eq('submitGet.method', r3.json().method, "\"GET\"");
  const r4 = res.clickLink();
  eq('click.query', r4.json().query, "{\"from\":\"link\"}");
  const r5 = res.clickLink({ selector: '#second' });
  eq('click2.url', r5.url.replace(T, ''), "\"/redirect/0\"");
  try { res.clickLink({ selector: 'a[name]' }); } catch (e) { out('click.err', String(e.message || e).replace(T, 'T')); }
  try { res.submitForm({ formSelector: '#none' }); } catch (e) { out('submit.err', String(e.message || e).replace(T, 'T')); }
  try { doc.find('li').each(1); } catch (e) { out('each.err', String(e.message || e)); }
  try { doc.find(1); } catch (e) { out('find.err', String(e.message || e)); }
}
