// Consumes chatgate's WSDL with node-soap, as a Node.js integrator would, over the SOAP 1.1 port.
// Run by tests/api/soap.rs:   node node_soap_check.js BASE_URL USER PASSWORD PLATFORMID
// Exits non-zero when anything differs from what the WSDL promises.
const assert = require('node:assert/strict');
const soap = require('soap');
const [base, user, password, pid] = process.argv.slice(2);

(async () => {
  const client = await soap.createClientAsync(base + '/api/soap/?wsdl');
  assert.deepEqual(Object.keys(client.describe().Chatgate), ['ChatgateSoap11Port', 'ChatgateSoap12Port']);
  const auth = { user, password };
  const chat = { platform: 'webchat', platformid: pid, destination: 'node-visitor' };

  const [channels] = await client.getchatchannelsAsync(auth);
  assert.equal(channels.status, 'SUCCESS');
  assert.equal(channels.result.list.item[0].platformid, pid);

  const [sent] = await client.sendmessageAsync({ ...auth, ...chat, message: 'from node-soap ✓ שלום' });
  const [bulk] = await client.sendmessagesAsync({ ...auth, message: [
    { ...chat, message: 'bulk' }, { ...chat, platformid: '999999', message: 'x' }] });
  const items = bulk.result.list.item;
  assert.equal(items[1].error, 'CHANNEL_NOT_FOUND');
  assert.equal(items[1].param, 'platformid');

  const [msgs] = await client.getmessagesAsync({ ...auth, ...chat, limit: 10 });
  const list = msgs.result.list.item;
  assert.deepEqual(list.map(m => m.messageid), [items[0].messageid, sent.result.messageid]);
  assert.equal(list[1].message, 'from node-soap ✓ שלום');
  assert.equal(list[1].sent, 1); // typed by the schema: an int, not a string

  await assert.rejects(client.getchatsAsync({ ...auth, password: 'wrong', platform: 'webchat', platformid: pid }), e => {
    const fault = e.root.Envelope.Body.Fault;
    assert.equal(fault.faultstring, 'INCORRECT_USER_PASSWORD');
    assert.equal(fault.detail.error.code, 'INCORRECT_USER_PASSWORD');
    return true;
  });
  // Typed list parameters, refused with why in words (templates are WhatsApp's).
  await assert.rejects(client.sendtemplateAsync({ ...auth, ...chat, template: 't', language: 'en',
    parameters: { parameter: [{ value: 'Ann' }] } }), e => {
    const detail = e.root.Envelope.Body.Fault.detail.error;
    assert.equal(detail.param, 'platform');
    assert.equal(detail.message, "templates are WhatsApp's");
    return true;
  });
  console.log('node-soap: OK');
})().catch(e => { console.error(e); process.exit(1); });
