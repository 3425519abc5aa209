// Java JAX-WS, as a Java integrator uses it: `wsimport -extension` generates typed classes from the served
// WSDL (both ports; the fault detail is the named type ErrorDetail, so no class shadows java.lang.Error),
// `javac` compiles them with this program, which drives every operation and two faults over SOAP 1.1
// and SOAP 1.2. Run by tests/api/soap.rs:
//     java -cp … ChatgateCheck BASE_URL USER PASSWORD PLATFORMID
import chatgate.client.*;

import java.net.URL;
import java.util.Arrays;
import java.util.List;
import javax.xml.ws.Holder;

public class ChatgateCheck {
    static void check(boolean ok, String what, Object got) {
        if (!ok) {
            System.err.println("java: " + what + ": " + got);
            System.exit(1);
        }
    }

    static BulkMessage item(String pid, String dest, String text) {
        BulkMessage m = new BulkMessage();
        m.setPlatform("webchat");
        m.setPlatformid(pid);
        m.setDestination(dest);
        m.setMessage(text);
        return m;
    }

    public static void main(String[] args) throws Exception {
        String base = args[0], user = args[1], pw = args[2], pid = args[3];
        Chatgate service = new Chatgate(new URL(base + "/api/soap/?wsdl"));
        for (String version : new String[] {"1.1", "1.2"}) {
            ChatgatePortType port =
                version.equals("1.1") ? service.getChatgateSoap11Port() : service.getChatgateSoap12Port();
            String dest = "java-" + version;
            Holder<String> status = new Holder<>();

            Holder<ChannelListResult> channels = new Holder<>();
            port.getchatchannels(user, pw, status, channels);
            check("SUCCESS".equals(status.value)
                    && channels.value.getList().getItem().get(0).getPlatformid().equals(pid), "getchatchannels", status.value);

            Holder<MessageIdResult> id = new Holder<>();
            String text = "from Java ✓ שלום";
            port.sendmessage(user, pw, "webchat", pid, dest, text, null, null, status, id);
            String sent = id.value.getMessageid();
            port.sendfile(user, pw, "webchat", pid, dest, FileType.IMAGE, "https://example.com/a.png", null, null, null,
                    null, status, id);
            String file = id.value.getMessageid();

            Holder<BulkResult> bulk = new Holder<>();
            port.sendmessages(user, pw, Arrays.asList(item(pid, dest, "bulk"), item("999999", dest, "x")), status, bulk);
            List<BulkItem> items = bulk.value.getList().getItem();
            check(items.get(0).getMessageid() != null && "CHANNEL_NOT_FOUND".equals(items.get(1).getError())
                    && "platformid".equals(items.get(1).getParam()), "sendmessages", items.get(1).getError());

            Holder<MessageListResult> list = new Holder<>();
            port.getmessages(user, pw, "webchat", pid, dest, 10, null, status, list);
            List<Message> msgs = list.value.getList().getItem();
            check(msgs.size() == 3 && msgs.get(0).getMessageid().equals(items.get(0).getMessageid())
                    && msgs.get(1).getMessageid().equals(file) && msgs.get(2).getMessageid().equals(sent), "getmessages order", msgs.size());
            check(msgs.get(2).getMessage().equals(text) && msgs.get(2).getSent() == 1
                    && msgs.get(1).getType() == FileType.IMAGE, "getmessages fields", msgs.get(2).getMessage());

            port.getchats(user, pw, "webchat", pid, 10, null, status, list);
            check(list.value.getList().getItem().get(0).getDestination().equals(dest), "getchats", status.value);

            Holder<MessageStatusResult> st = new Holder<>();
            port.getmessagestatus(user, pw, sent, status, st);
            check((st.value.getStatus().equals("pending") || st.value.getStatus().equals("sent"))
                    && st.value.getDatetime().length() == 19, "getmessagestatus", st.value.getStatus());

            Holder<EmptyResult> empty = new Holder<>();
            port.markread(user, pw, "webchat", pid, dest, sent, status, empty);
            check("SUCCESS".equals(status.value), "markread", status.value);
            port.getunreadmessages(user, pw, "webchat", pid, dest, false, 5, status, list);
            check(list.value.getList() == null || list.value.getList().getItem().isEmpty(), "getunreadmessages", status.value);

            Holder<WebhookCreatedResult> hook = new Holder<>();
            port.setwebhook(user, pw, base + "/java-hook", "chat_session.message_sent", null, status, hook);
            check(hook.value.getSecret().startsWith("whsec_"), "setwebhook", status.value);
            Holder<WebhookListResult> hooks = new Holder<>();
            port.getwebhooks(user, pw, status, hooks);
            check(hooks.value.getList().getItem().stream().anyMatch(h -> h.getWebhookid().equals(hook.value.getWebhookid())),
                    "getwebhooks", status.value);
            port.sendmessage(user, pw, "webchat", pid, dest, "an event", null, null, status, id);
            Holder<DeliveryListResult> deliveries = new Holder<>();
            port.getdeliveries(user, pw, hook.value.getWebhookid(), 10, status, deliveries);
            Delivery d = deliveries.value.getList().getItem().get(0);
            check(d.getEvent().equals("chat_session.message_sent"), "getdeliveries", d.getEvent());
            port.redeliver(user, pw, d.getDeliveryid(), status, empty);
            check("SUCCESS".equals(status.value), "redeliver", status.value);
            port.deletewebhook(user, pw, hook.value.getWebhookid(), status, empty);
            check("SUCCESS".equals(status.value), "deletewebhook", status.value);

            for (String[] c : new String[][] {{pw, "nobody", "CHAT_NOT_FOUND"}, {"wrong", dest, "INCORRECT_USER_PASSWORD"}}) {
                try {
                    port.getmessages(user, c[0], "webchat", pid, c[1], null, null, status, list);
                    check(false, "expected a fault", c[2]);
                } catch (ChatgateFault f) {
                    check(f.getMessage().equals(c[2]) && f.getFaultInfo().getCode().equals(c[2]), "fault " + c[2],
                            f.getMessage() + " / " + f.getFaultInfo().getCode());
                }
            }
        }
        System.out.println("java wsimport: all operations OK over SOAP 1.1 and 1.2");
    }
}
