<?php
// An independent client: PHP's own SoapClient (ext-soap), pointed at a server's ?wsdl.
//
// Why: the emulator is only a useful reference if SOAP stacks nobody here wrote can use it
// from its WSDL alone. This script does what a PHP integrator would do (load the WSDL, call
// the wrapped operations with arrays, catch SoapFault) and prints ONE JSON line that
// tests/test_independent_clients.py asserts on. It holds no limit and no scenario value:
// every number it uses arrives as an argument.
//
// Usage: php php_client.php WSDL_URL MODE name=value...
//   add-status group=G         AddRequest (one IVRInformation) into group G, then
//                              GetOpenMediaRequestStatusByID on the ID it returned.
//   add-label group=G label_length=N
//                              AddRequest whose only Label is N characters long.
//   status id=I                GetOpenMediaRequestStatusByID on ID I.
// Optional for every mode: logon=L password=P auth_ns=NS: LogonID and Password SOAP headers
// in namespace NS (the service's literal "OpenMediaService", R16), set with SoapHeader.

function usage(string $why): void
{
    fwrite(STDERR, "php_client.php: $why\n");
    exit(2);
}

/** Names of the fault detail's children as SoapClient decoded them (what a PHP caller sees). */
function detail_names($detail): array
{
    if (is_object($detail)) {
        return array_keys(get_object_vars($detail));
    }
    if (is_array($detail)) {
        return array_keys($detail);
    }
    return [];
}

/** The detail element names read from the raw response, for comparison with the decoded ones. */
function raw_detail(?string $xml): array
{
    if ($xml === null || $xml === '') {
        return [];
    }
    $doc = new DOMDocument();
    if (!@$doc->loadXML($xml, LIBXML_NONET)) {
        return [];
    }
    $out = [];
    foreach ($doc->getElementsByTagName('detail') as $detail) {
        foreach ($detail->childNodes as $child) {
            if ($child->nodeType === XML_ELEMENT_NODE) {
                $out[] = ['local' => $child->localName, 'namespace' => $child->namespaceURI];
            }
        }
    }
    return $out;
}

/** The records of a GetOpenMediaResponse as plain arrays. */
function records($result): array
{
    $items = $result->OpenMediaRequests->OpenMediaRequest ?? [];
    if (!is_array($items)) {
        $items = [$items];
    }
    $out = [];
    foreach ($items as $item) {
        $out[] = [
            'AgentID' => $item->AgentID ?? null,
            'ID' => $item->ID ?? null,
            'LogonID' => $item->LogonID ?? null,
            'QueuePosition' => $item->QueuePosition ?? null,
            'ServiceGroupID' => $item->ServiceGroupID ?? null,
            'Status' => $item->Status ?? null,
            'TenantID' => $item->TenantID ?? null,
            'TimeStamp' => $item->TimeStamp ?? null,
        ];
    }
    return $out;
}

$args = array_slice($argv, 1);
if (count($args) < 2) {
    usage('expected WSDL_URL MODE name=value...');
}
[$wsdl, $mode] = $args;
$required = ['add-status' => ['group'], 'add-label' => ['group', 'label_length'], 'status' => ['id']];
if (!isset($required[$mode])) {
    usage("unknown mode $mode");
}
$opt = [];
foreach (array_slice($args, 2) as $pair) {
    $parts = explode('=', $pair, 2);
    if (count($parts) !== 2) {
        usage("expected name=value, got $pair");
    }
    $opt[$parts[0]] = $parts[1];
}
foreach ($required[$mode] as $name) {
    if (!isset($opt[$name])) {
        usage("mode $mode needs $name=");
    }
}
$auth = array_intersect_key($opt, array_flip(['logon', 'password', 'auth_ns']));
if (count($auth) !== 0 && count($auth) !== 3) {
    usage('logon=, password= and auth_ns= go together');
}

$report = [
    'client' => 'php-soapclient',
    'runtime' => 'PHP ' . PHP_VERSION,
    'mode' => $mode,
    'calls' => [],
];

try {
    $client = new SoapClient($wsdl, [
        'soap_version' => SOAP_1_1,
        'cache_wsdl' => WSDL_CACHE_NONE,
        'trace' => true,
        'exceptions' => true,
        'connection_timeout' => 10,
        // One record comes back as an object, several as an array, unless this is set.
        'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
    ]);
} catch (Throwable $error) {
    $report['error'] = get_class($error) . ': ' . $error->getMessage();
    echo json_encode($report, JSON_UNESCAPED_SLASHES), "\n";
    exit(1);
}
if ($auth) {
    $client->__setSoapHeaders([
        new SoapHeader($auth['auth_ns'], 'LogonID', $auth['logon']),
        new SoapHeader($auth['auth_ns'], 'Password', $auth['password']),
    ]);
}

/** Run one call; record its decoded result or its SoapFault; return the result or null. */
function call(SoapClient $client, array &$report, string $operation, array $params, callable $decode)
{
    $entry = ['operation' => $operation];
    try {
        $response = $client->__soapCall($operation, [$params]);
        $entry['result'] = $decode($response);
        $outcome = $response;
    } catch (SoapFault $fault) {
        $entry['fault'] = [
            'class' => get_class($fault),
            'faultcode' => $fault->faultcode ?? null,
            'faultstring' => $fault->faultstring ?? null,
            'detail_names' => detail_names($fault->detail ?? null),
            'raw_detail' => raw_detail($client->__getLastResponse()),
        ];
        $outcome = null;
    }
    $entry['sent'] = $client->__getLastRequest();
    $entry['sent_headers'] = $client->__getLastRequestHeaders();
    $entry['received'] = $client->__getLastResponse();
    $report['calls'][] = $entry;
    return $outcome;
}

$decode_add = static fn($r) => [
    'EWT' => $r->AddRequestResult->EWT ?? null,
    'OpenMediaID' => $r->AddRequestResult->OpenMediaID ?? null,
    'QueuePosition' => $r->AddRequestResult->QueuePosition ?? null,
    'RequestStatus' => $r->AddRequestResult->RequestStatus ?? null,
];
$decode_status = static fn($r) => [
    'records' => records($r->GetOpenMediaRequestStatusByIDResult),
    'TimeStamp' => $r->GetOpenMediaRequestStatusByIDResult->TimeStamp ?? null,
];

/** An AddRequest body as a PHP integrator writes it: only the members they mean to give. */
function add_params(int $group, string $label, string $data): array
{
    return ['request' => [
        'IVRInfo' => ['IVRInformation' => [['Data' => $data, 'Label' => $label]]],
        'ServiceGroupID' => $group,
    ]];
}

switch ($mode) {
    case 'add-status':
        $added = call($client, $report, 'AddRequest', add_params((int)$opt['group'], 'Case', 'php-1'), $decode_add);
        if ($added !== null) {
            $id = $added->AddRequestResult->OpenMediaID;
            call($client, $report, 'GetOpenMediaRequestStatusByID', ['openMediaID' => $id], $decode_status);
        }
        break;
    case 'add-label':
        $label = str_repeat('L', (int)$opt['label_length']);
        call($client, $report, 'AddRequest', add_params((int)$opt['group'], $label, 'php-2'), $decode_add);
        break;
    case 'status':
        call($client, $report, 'GetOpenMediaRequestStatusByID', ['openMediaID' => (int)$opt['id']], $decode_status);
        break;
}

echo json_encode($report, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE), "\n";
