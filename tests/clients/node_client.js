#!/usr/bin/env node
// An independent client: the npm package `soap` (node-soap), pointed at a server's ?wsdl.
//
// Why: the emulator is only a useful reference if SOAP stacks nobody here wrote can use it
// from its WSDL alone. This script does what a Node integrator would do (createClientAsync on
// the WSDL URL, call <Op>Async with plain objects, catch the rejected promise) and prints ONE
// JSON line that tests/test_independent_clients.py asserts on. It holds no limit and no
// scenario value: every number it uses arrives as an argument.
//
// Usage: node node_client.js WSDL_URL MODE name=value...
//   add-status group=G         AddRequest (one IVRInformation) into group G, then
//                              GetOpenMediaRequestStatusByID on the ID it returned.
//   add-label group=G label_length=N
//                              AddRequest whose only Label is N characters long.
//   status id=I                GetOpenMediaRequestStatusByID on ID I.
// Optional for every mode: logon=L password=P auth_ns=NS: LogonID and Password SOAP headers
// in namespace NS (the service's literal "OpenMediaService", R16), set with addSoapHeader.
'use strict';

const REQUIRED = { 'add-status': ['group'], 'add-label': ['group', 'label_length'], status: ['id'] };

function usage(why) {
  process.stderr.write(`node_client.js: ${why}\n`);
  process.exit(2);
}

let soap;
try {
  soap = require('soap');
} catch (error) {
  usage(`npm package soap is not installed (run npm ci at the repository root): ${error.message}`);
}

/** The node-soap version actually loaded, for the report. */
function soapVersion() {
  try {
    return require('soap/package.json').version;
  } catch (error) {
    return 'unknown';
  }
}

/** Local name of an element key as node-soap keeps it (it may carry a prefix: "a:Foo"). */
function localName(key) {
  const colon = key.indexOf(':');
  return colon >= 0 ? key.slice(colon + 1) : key;
}

/** The fault as node-soap hands it to a caller: err.root (parsed) and err.body (raw). */
function describeFault(error) {
  const envelope = error.root && error.root.Envelope;
  const fault = envelope && envelope.Body && envelope.Body.Fault;
  if (!fault) {
    return null;
  }
  const detail = fault.detail || {};
  const detailNames = Object.keys(detail)
    .filter((key) => key !== 'attributes' && key !== '$value')
    .map(localName);
  return {
    class: error.constructor && error.constructor.name,
    message: error.message,
    faultcode: fault.faultcode,
    faultstring: typeof fault.faultstring === 'object' ? fault.faultstring.$value : fault.faultstring,
    detail_names: detailNames,
    body_mentions: detailNames.filter((name) => typeof error.body === 'string' && error.body.includes(name)),
  };
}

/** The records of a GetOpenMediaResponse as plain objects. */
function records(result) {
  const holder = (result && result.OpenMediaRequests) || {};
  let items = holder.OpenMediaRequest || [];
  if (!Array.isArray(items)) {
    items = [items];
  }
  return items.map((item) => ({
    AgentID: item.AgentID,
    ID: item.ID,
    LogonID: item.LogonID === undefined ? null : item.LogonID,
    QueuePosition: item.QueuePosition,
    ServiceGroupID: item.ServiceGroupID,
    Status: item.Status,
    TenantID: item.TenantID,
    TimeStamp: item.TimeStamp instanceof Date ? item.TimeStamp.toISOString() : item.TimeStamp,
  }));
}

function decodeAdd(response) {
  const result = response.AddRequestResult || {};
  return {
    EWT: result.EWT,
    OpenMediaID: result.OpenMediaID,
    QueuePosition: result.QueuePosition,
    RequestStatus: result.RequestStatus,
  };
}

function decodeStatus(response) {
  const result = response.GetOpenMediaRequestStatusByIDResult || {};
  return {
    records: records(result),
    TimeStamp: result.TimeStamp instanceof Date ? result.TimeStamp.toISOString() : result.TimeStamp,
  };
}

/** An AddRequest body as a Node integrator writes it: keys in the WSDL's member order. */
function addParams(group, label, data) {
  return {
    request: {
      IVRInfo: { IVRInformation: [{ Data: data, Label: label }] },
      ServiceGroupID: group,
    },
  };
}

async function call(client, report, operation, params, decode) {
  const entry = { operation };
  let outcome = null;
  try {
    const [response] = await client[`${operation}Async`](params);
    entry.result = decode(response);
    outcome = response;
  } catch (error) {
    const fault = describeFault(error);
    if (fault === null) {
      entry.error = `${error.name}: ${error.message}`;
    } else {
      entry.fault = fault;
    }
  }
  entry.sent = client.lastRequest;
  entry.sent_headers = client.lastRequestHeaders;
  entry.received = client.lastResponse;
  report.calls.push(entry);
  return outcome;
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length < 2) {
    usage('expected WSDL_URL MODE name=value...');
  }
  const [wsdl, mode, ...pairs] = args;
  if (!(mode in REQUIRED)) {
    usage(`unknown mode ${mode}`);
  }
  const opt = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 0) {
      usage(`expected name=value, got ${pair}`);
    }
    opt[pair.slice(0, at)] = pair.slice(at + 1);
  }
  for (const name of REQUIRED[mode]) {
    if (!(name in opt)) {
      usage(`mode ${mode} needs ${name}=`);
    }
  }
  const auth = ['logon', 'password', 'auth_ns'].filter((name) => name in opt);
  if (auth.length !== 0 && auth.length !== 3) {
    usage('logon=, password= and auth_ns= go together');
  }
  const report = { client: 'node-soap', runtime: `node ${process.version} soap ${soapVersion()}`, mode, calls: [] };
  let client;
  try {
    client = await soap.createClientAsync(wsdl, { wsdl_options: { timeout: 10000 } });
  } catch (error) {
    report.error = `${error.name}: ${error.message}`;
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exitCode = 1;
    return;
  }
  if (auth.length === 3) {
    client.addSoapHeader({ LogonID: opt.logon }, 'LogonID', 'om', opt.auth_ns);
    client.addSoapHeader({ Password: opt.password }, 'Password', 'om', opt.auth_ns);
  }
  if (mode === 'add-status') {
    const added = await call(client, report, 'AddRequest', addParams(Number(opt.group), 'Case', 'node-1'), decodeAdd);
    if (added !== null) {
      const id = added.AddRequestResult.OpenMediaID;
      await call(client, report, 'GetOpenMediaRequestStatusByID', { openMediaID: id }, decodeStatus);
    }
  } else if (mode === 'add-label') {
    const label = 'L'.repeat(Number(opt.label_length));
    await call(client, report, 'AddRequest', addParams(Number(opt.group), label, 'node-2'), decodeAdd);
  } else {
    await call(client, report, 'GetOpenMediaRequestStatusByID', { openMediaID: Number(opt.id) }, decodeStatus);
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error) => {
  process.stderr.write(`node_client.js: ${error.stack || error}\n`);
  process.exit(1);
});
