<?php
// PHP's own SoapClient (ext-soap) consumes chatgate's served WSDL, as a PHP integrator would, and drives
// every operation over SOAP 1.1 (credentials in the body) and SOAP 1.2 (a WS-Security UsernameToken
// sent through SoapHeader), then checks faults and their ErrorDetail. Run by tests/api/soap.rs:
//     php php_soap_check.php BASE_URL USER PASSWORD PLATFORMID
// Exits non-zero on the first difference from what the WSDL promises.
[$_, $base, $user, $pw, $pid] = $argv;

function check(bool $ok, string $what, $got = null): void {
    if (!$ok) {
        fwrite(STDERR, "php-soap: $what: " . var_export($got, true) . "\n");
        exit(1);
    }
}

function client(string $base, int $version): SoapClient {
    return new SoapClient("$base/api/soap/?wsdl", [
        'soap_version' => $version,
        'exceptions' => true,
        'cache_wsdl' => WSDL_CACHE_NONE,
        'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
        'trace' => true,
    ]);
}

function username_token(string $user, string $pw): SoapHeader {
    $wsse = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
    $text = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';
    $xml = sprintf(
        '<wsse:Security xmlns:wsse="%s"><wsse:UsernameToken><wsse:Username>%s</wsse:Username>'
        . '<wsse:Password Type="%s">%s</wsse:Password></wsse:UsernameToken></wsse:Security>',
        $wsse, htmlspecialchars($user), $text, htmlspecialchars($pw)
    );
    return new SoapHeader($wsse, 'Security', new SoapVar($xml, XSD_ANYXML), true);
}

$c11 = client($base, SOAP_1_1);
$c12 = client($base, SOAP_1_2);
$c12->__setSoapHeaders([username_token($user, $pw)]);
$auth = ['user' => $user, 'password' => $pw];

$ops = array_map(fn ($f) => preg_replace('/^\S+ (\w+)\(.*$/', '$1', $f), $c11->__getFunctions());
sort($ops);
$want = ['assignchat', 'deletewebhook', 'endchat', 'getchatchannels', 'getchatinfo', 'getchats', 'getdeliveries', 'getmessages',
    'getmessagestatus', 'gettemplates', 'getunreadmessages', 'getwebhooks', 'markread', 'redeliver', 'sendfile', 'sendmessage',
    'sendmessages', 'sendtemplate', 'setcontact', 'setwebhook'];
check(array_values(array_unique($ops)) === $want, 'operations', $ops);
$types = implode("\n", $c11->__getTypes());
check(str_contains($types, 'struct ErrorDetail'), 'typed fault detail ErrorDetail', $types);

$r = $c11->getchatchannels($auth);
check(str_contains($c11->__getLastRequest(), 'http://schemas.xmlsoap.org/soap/envelope/'), 'SOAP 1.1 envelope');
check($r->status === 'SUCCESS' && $r->result->list->item[0]->platformid === $pid, 'getchatchannels', $r);
$chat = ['platform' => 'webchat', 'platformid' => $pid, 'destination' => 'php-visitor'];
$text = 'from PHP ✓ שלום';
$sent = $c11->sendmessage($auth + $chat + ['message' => $text])->result->messageid;
$file = $c12->sendfile($chat + ['type' => 'image', 'fileurl' => 'https://example.com/a.png'])->result->messageid;
check(str_contains($c12->__getLastRequest(), 'http://www.w3.org/2003/05/soap-envelope'), 'SOAP 1.2 envelope');
check(str_contains($c12->__getLastRequest(), 'UsernameToken'), 'WS-Security header');
$bulk = $c11->sendmessages($auth + ['message' => [
    $chat + ['message' => 'bulk'],
    ['platform' => 'webchat', 'platformid' => '999999', 'destination' => 'x', 'message' => 'x'],
]])->result->list->item;
check($bulk[0]->messageid !== null && $bulk[1]->error === 'CHANNEL_NOT_FOUND' && $bulk[1]->param === 'platformid', 'sendmessages', $bulk);
$msgs = $c12->getmessages($chat + ['limit' => 10])->result->list->item;
check(array_map(fn ($m) => $m->messageid, $msgs) === [$bulk[0]->messageid, $file, $sent], 'getmessages order', $msgs);
check($msgs[2]->message === $text && $msgs[2]->sent === 1 && $msgs[1]->type === 'image', 'getmessages fields', $msgs);
$chats = $c12->getchats(['platform' => 'webchat', 'platformid' => $pid, 'limit' => 10])->result->list->item;
check($chats[0]->destination === 'php-visitor', 'getchats', $chats);
$st = $c11->getmessagestatus($auth + ['messageid' => $sent])->result;
check(in_array($st->status, ['pending', 'sent'], true) && strlen($st->datetime) === 19, 'getmessagestatus', $st);
check($c11->markread($auth + $chat + ['messageid' => $sent])->status === 'SUCCESS', 'markread');
$unread = $c12->getunreadmessages($chat + ['markread' => false, 'limit' => 5])->result->list;
check(empty($unread->item), 'getunreadmessages', $unread);
$contact = $c11->setcontact($auth + $chat + ['email' => 'php@example.com', 'custom' => '{"tier":2}'])->result;
check($contact->contact->email === 'php@example.com' && $contact->custom === '{"tier":2}', 'setcontact', $contact);
check($c12->assignchat($chat + ['operator' => $user])->status === 'SUCCESS', 'assignchat');
check($c11->endchat($auth + $chat)->status === 'SUCCESS', 'endchat');
$info = $c12->getchatinfo($chat)->result;
check($info->destination === 'php-visitor' && $info->window === '', 'getchatinfo', $info);
check($info->contact->email === 'php@example.com' && $info->state === 'ended' && $info->assignee === $user, 'getchatinfo conversation', $info);
try {
    $c11->sendtemplate($auth + $chat + ['template' => 'order_update', 'language' => 'en_US',
        'parameters' => ['parameter' => [['value' => 'Ann']]]]);
    check(false, 'expected an INCORRECT_PARAM fault');
} catch (SoapFault $f) {
    check($f->faultstring === 'INCORRECT_PARAM' && $f->detail->error->param === 'platform', 'sendtemplate fault', $f->detail);
}

$hook = $c11->setwebhook($auth + ['url' => "$base/php-hook", 'events' => 'chat_session.message_sent'])->result;
check(str_starts_with($hook->secret, 'whsec_'), 'setwebhook', $hook);
$hooks = $c12->getwebhooks([])->result->list->item;
check($hooks[0]->webhookid === $hook->webhookid && $hooks[0]->events === 'chat_session.message_sent', 'getwebhooks', $hooks);
$c11->sendmessage($auth + $chat + ['message' => 'an event']);
$deliveries = $c12->getdeliveries(['webhookid' => $hook->webhookid, 'limit' => 10])->result->list->item;
check($deliveries[0]->event === 'chat_session.message_sent', 'getdeliveries', $deliveries);
check($c11->redeliver($auth + ['deliveryid' => $deliveries[0]->deliveryid])->status === 'SUCCESS', 'redeliver');
check($c12->deletewebhook(['webhookid' => $hook->webhookid])->status === 'SUCCESS', 'deletewebhook');

// Faults: the code in faultstring, Client/Sender by version, the typed detail.
foreach ([[$c11, array_merge($auth, ['password' => 'wrong']), 'Client', 'INCORRECT_USER_PASSWORD'], [$c12, [], 'Sender', 'CHAT_NOT_FOUND']] as [$client, $kw, $code, $want]) {
    try {
        $client->getmessages($kw + ['platform' => 'webchat', 'platformid' => $pid, 'destination' => 'nobody']);
        check(false, "expected a $want fault");
    } catch (SoapFault $f) {
        check($f->faultstring === $want && str_ends_with($f->faultcode, $code), "fault $want", [$f->faultcode, $f->faultstring]);
        check($f->detail->error->code === $want, "fault detail $want", $f->detail);
    }
}
echo "php-soap: all operations OK over SOAP 1.1 and 1.2\n";
