"""Consumes chatgate's WSDL with Python zeep, as a .NET/Java-style typed client would, and drives every
operation through both bindings. Run by tests/api/soap.rs against a spawned server:
    python3 zeep_check.py BASE_URL USER PASSWORD PLATFORMID
Exits non-zero (an AssertionError or zeep error) when anything differs from what the WSDL promises."""
import sys

import zeep
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

base, user, pw, pid = sys.argv[1:5]
auth = {"user": user, "password": pw}
c11 = zeep.Client(base + "/api/soap/?wsdl", service_name="Chatgate", port_name="ChatgateSoap11Port")
c12 = zeep.Client(base + "/api/soap/?wsdl", service_name="Chatgate", port_name="ChatgateSoap12Port",
                  wsse=UsernameToken(user, pw))
ops = sorted(c11.service._binding._operations)
assert ops == sorted(["getchatchannels", "sendmessage", "sendfile", "getchats", "getmessages",
                      "getunreadmessages", "sendmessages", "getmessagestatus", "markread", "setwebhook",
                      "getwebhooks", "deletewebhook", "getdeliveries", "redeliver", "sendtemplate",
                      "gettemplates", "getchatinfo", "endchat", "assignchat", "setcontact"]), ops

r = c11.service.getchatchannels(**auth)
assert r.status == "SUCCESS" and [i.platformid for i in r.result.list.item][0] == pid, r
chat = {"platform": "webchat", "platformid": pid, "destination": "zeep-visitor"}
sent = c11.service.sendmessage(**auth, **chat, message="from zeep ✓ שלום").result.messageid
f = c12.service.sendfile(**chat, type="image", fileurl="https://example.com/a.png").result.messageid
bulk = c11.service.sendmessages(**auth, message=[
    dict(chat, message="bulk"), dict(chat, platformid="999999", message="x")]).result.list.item
assert bulk[0].messageid and bulk[1].error == "CHANNEL_NOT_FOUND" and bulk[1].param == "platformid", bulk
msgs = c12.service.getmessages(**chat, limit=10).result.list.item
assert [m.messageid for m in msgs] == [bulk[0].messageid, f, sent], msgs
assert msgs[2].message == "from zeep ✓ שלום" and msgs[2].sent == 1 and msgs[1].type == "image", msgs
chats = c12.service.getchats(platform="webchat", platformid=pid).result.list.item
assert chats[0].destination == "zeep-visitor", chats
st = c11.service.getmessagestatus(**auth, messageid=sent).result
# An outbound status; the webchat message may already have been delivered to its page.
assert st.status in ("pending", "sent") and len(st.datetime) == 19, st
assert c11.service.markread(**auth, **chat, messageid=sent).status == "SUCCESS"
unread = c12.service.getunreadmessages(**chat, markread=False).result.list
assert unread is None or not unread.item, unread
contact = c11.service.setcontact(**auth, **chat, name="Zoe Eep", company="Zeep Ltd", custom='{"plan":"gold"}').result
assert contact.contact.name == "Zoe Eep" and contact.contact.company == "Zeep Ltd", contact
assert c12.service.assignchat(**chat, operator=user).status == "SUCCESS"
assert c11.service.endchat(**auth, **chat).status == "SUCCESS"
info = c12.service.getchatinfo(**chat).result
assert info.destination == "zeep-visitor" and info.window in ("", None), info
assert (info.contact.name, info.state, info.assignee) == ("Zoe Eep", "ended", user), info
assert info.custom == '{"plan":"gold"}', info
# Templates are WhatsApp's: typed parameters and buttons go out, and the webchat channel is refused.
try:
    c11.service.sendtemplate(**auth, **chat, template="order_update", language="en_US",
                             parameters={"parameter": [{"value": "Ann"}, {"name": "n", "value": "v"}]},
                             buttons={"button": [{"index": 0, "payload": "STOP"}]})
    raise AssertionError("expected a fault")
except Fault as fault:
    assert fault.message == "INCORRECT_PARAM", fault.message
    detail = c11.wsdl.types.get_element("{urn:chatgate:chat:1}error").parse(fault.detail[0], c11.wsdl.types)
    assert detail.param == "platform" and detail.message == "templates are WhatsApp's", detail
try:
    c12.service.gettemplates(platform="webchat", platformid=pid)
    raise AssertionError("expected a fault")
except Fault as fault:
    assert fault.message == "INCORRECT_PARAM", fault.message

hook = c11.service.setwebhook(**auth, url=base + "/zeep-hook", events="chat_session.message_sent,chat_session.start",
                              headers='{"X-Token":"t"}').result
assert hook.secret.startswith("whsec_") and hook.webhookid, hook
hooks = c12.service.getwebhooks().result.list.item
assert [(h.webhookid, h.events) for h in hooks] == [(hook.webhookid, "chat_session.start,chat_session.message_sent")], hooks
c11.service.sendmessage(**auth, **chat, message="an event")
deliveries = c12.service.getdeliveries(webhookid=hook.webhookid, limit=10).result.list.item
assert [d.event for d in deliveries] == ["chat_session.message_sent"], deliveries
assert deliveries[0].status in ("pending", "delivered", "failed") and deliveries[0].eventid.startswith("msg_"), deliveries
assert c11.service.redeliver(**auth, deliveryid=deliveries[0].deliveryid).status == "SUCCESS"
assert c12.service.deletewebhook(webhookid=hook.webhookid).status == "SUCCESS"
try:
    c12.service.redeliver(deliveryid=deliveries[0].deliveryid)
    raise AssertionError("expected a fault")
except Fault as fault:
    assert fault.message == "DELIVERY_NOT_FOUND", fault.message

for client, kw, code, want in [
    (c11, dict(auth, password="wrong"), "soap:Client", "INCORRECT_USER_PASSWORD"),
    (c12, {}, "soap:Sender", "CHAT_NOT_FOUND"),
]:
    try:
        client.service.getmessages(**kw, platform="webchat", platformid=pid, destination="nobody")
        raise AssertionError("expected a fault")
    except Fault as fault:
        assert fault.message == want and fault.code == code, (fault.message, fault.code)
        detail = client.wsdl.types.get_element("{urn:chatgate:chat:1}error").parse(fault.detail[0], client.wsdl.types)
        assert detail.code == want, detail
print("zeep: all operations OK over SOAP 1.1 and 1.2")
