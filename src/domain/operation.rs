//! The methods a caller can name: one registration each — the operation and its command type (in
//! `ops/`), its class, its method name, the scope it needs and the parameters it reads with the JSON
//! types each accepts besides text. `Operation`, `Command` (parse, scope, apply), the operation list,
//! the classes, the scopes, the JSON door's type table and the SOAP door's parameter list are all made
//! from here, so an operation cannot be half-registered: adding one is one line below and its `ops/`
//! file (`parse(params, now)` and `apply(ctx)`).

use super::context::Context;
use super::error::{DomainError, DomainResult, ErrorCode};
use super::model::Scope;
use super::ops::*;
use super::params::Params;
use super::reply::Reply;

/// The classes chatgate knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Chat,
    Webhook,
}

impl Class {
    pub const ALL: [Class; 2] = [Self::Chat, Self::Webhook];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Webhook => "webhook",
        }
    }
}

/// What a parameter holds, as far as a door that has JSON types must know: any parameter may be given
/// as text; these may also be given as the JSON type named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Text,
    Integer,
    Boolean,
    Array,
    Object,
    /// A JSON array or object.
    Json,
}

/// One parameter an operation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub kind: ParamKind,
}

/// An operation's registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub class: Class,
    pub method: &'static str,
    pub scope: Scope,
    pub params: &'static [Param],
}

/// `Operation`, `Operation::ALL`, each operation's `Spec` and `Command`, from one table.
macro_rules! operations {
    ($($op:ident($command:ty) => $class:ident $method:literal $scope:ident [$($param:literal $kind:ident),* $(,)?]),+ $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $($op),+
        }

        const COUNT: usize = [$(stringify!($op)),+].len();

        impl Operation {
            pub const ALL: [Operation; COUNT] = [$(Self::$op),+];

            pub fn spec(self) -> &'static Spec {
                match self {
                    $(Self::$op => &Spec {
                        class: Class::$class,
                        method: $method,
                        scope: Scope::$scope,
                        params: &[$(Param { name: $param, kind: ParamKind::$kind }),*],
                    }),+
                }
            }
        }

        /// One parsed, validated request of any door: the operation with its values.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Command {
            $($op($command)),+
        }

        impl Command {
            /// Parses the parameters of `op`: the first missing compulsory one, then the values.
            /// `now` (Unix ms) is needed to judge `invalidationtime`.
            pub fn parse(op: Operation, params: &Params, now: i64) -> DomainResult<Self> {
                Ok(match op {
                    $(Operation::$op => Self::$op(<$command>::parse(params, now)?)),+
                })
            }

            /// The operation this command is (its scope is the registration's).
            pub fn operation(&self) -> Operation {
                match self {
                    $(Self::$op(_) => Operation::$op),+
                }
            }

            pub async fn apply(self, ctx: &Context<'_>) -> DomainResult<Reply> {
                match self {
                    $(Self::$op(c) => c.apply(ctx).await),+
                }
            }
        }
    };
}

// Scopes (SPEC §3.4): `chat:read` for the get* methods, `chat:write` for send* and markread,
// `webhook:manage` for the webhook class.
operations! {
    GetChatChannels(get_chat_channels::GetChatChannels) => Chat "getchatchannels" ChatRead [],
    SendMessage(send_message::SendMessage) => Chat "sendmessage" ChatWrite [
        "platform" Text, "platformid" Integer, "destination" Integer, "message" Text,
        "invalidationtime" Integer, "idempotencykey" Text,
    ],
    SendFile(send_file::SendFile) => Chat "sendfile" ChatWrite [
        "platform" Text, "platformid" Integer, "destination" Integer, "type" Text, "fileurl" Text,
        "thumburl" Text, "message" Text, "invalidationtime" Integer, "idempotencykey" Text,
    ],
    GetChats(get_chats::GetChats) => Chat "getchats" ChatRead ["platform" Text, "platformid" Integer, "limit" Integer, "before" Integer],
    GetMessages(get_messages::GetMessages) => Chat "getmessages" ChatRead [
        "platform" Text, "platformid" Integer, "destination" Integer, "limit" Integer, "before" Integer,
    ],
    GetUnreadMessages(get_unread_messages::GetUnreadMessages) => Chat "getunreadmessages" ChatRead [
        "platform" Text, "platformid" Integer, "destination" Integer, "markread" Boolean, "limit" Integer,
    ],
    SendMessages(send_messages::SendMessages) => Chat "sendmessages" ChatWrite ["messages" Array],
    SendTemplate(send_template::SendTemplate) => Chat "sendtemplate" ChatWrite [
        "platform" Text, "platformid" Integer, "destination" Integer, "template" Text, "language" Text,
        "parameters" Json, "header" Text, "buttons" Array, "invalidationtime" Integer, "idempotencykey" Text,
    ],
    GetTemplates(get_templates::GetTemplates) => Chat "gettemplates" ChatRead [
        "platform" Text, "platformid" Integer, "refresh" Boolean,
    ],
    GetChatInfo(get_chat_info::GetChatInfo) => Chat "getchatinfo" ChatRead [
        "platform" Text, "platformid" Integer, "destination" Integer,
    ],
    EndChat(end_chat::EndChat) => Chat "endchat" ChatWrite ["platform" Text, "platformid" Integer, "destination" Integer],
    AssignChat(assign_chat::AssignChat) => Chat "assignchat" ChatWrite [
        "platform" Text, "platformid" Integer, "destination" Integer, "operator" Text, "group" Text,
    ],
    SetContact(set_contact::SetContact) => Chat "setcontact" ChatWrite [
        "platform" Text, "platformid" Integer, "destination" Integer, "name" Text, "email" Text,
        "phone_number" Text, "company" Text, "external_customer_id" Text, "custom" Object,
    ],
    GetMessageStatus(get_message_status::GetMessageStatus) => Chat "getmessagestatus" ChatRead ["messageid" Integer],
    MarkRead(mark_read::MarkRead) => Chat "markread" ChatWrite [
        "platform" Text, "platformid" Integer, "destination" Integer, "messageid" Integer,
    ],
    SetWebhook(set_webhook::SetWebhook) => Webhook "setwebhook" WebhookManage ["url" Text, "events" Array, "headers" Object],
    GetWebhooks(get_webhooks::GetWebhooks) => Webhook "getwebhooks" WebhookManage [],
    DeleteWebhook(delete_webhook::DeleteWebhook) => Webhook "deletewebhook" WebhookManage ["webhookid" Integer],
    GetDeliveries(get_deliveries::GetDeliveries) => Webhook "getdeliveries" WebhookManage ["webhookid" Integer, "limit" Integer],
    Redeliver(redeliver::Redeliver) => Webhook "redeliver" WebhookManage ["deliveryid" Integer],
}

impl Operation {
    pub fn class(self) -> &'static str {
        self.spec().class.as_str()
    }

    /// The method name on the wire (lower case, as Afilnet spells it).
    pub fn method(self) -> &'static str {
        self.spec().method
    }

    pub fn scope(self) -> Scope {
        self.spec().scope
    }

    /// The operation with this method name (exact, lower case), whatever its class.
    pub fn by_method(method: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.method() == method)
    }

    /// Class and method as the caller named them (case-insensitive), checked in the spec's order.
    pub fn resolve(class: Option<&str>, method: Option<&str>) -> DomainResult<Self> {
        let class = class.filter(|c| !c.is_empty()).ok_or(ErrorCode::MissingClass)?;
        if !Class::ALL.iter().any(|c| c.as_str().eq_ignore_ascii_case(class)) {
            return Err(DomainError::new(ErrorCode::IncorrectClass));
        }
        let method = method.filter(|m| !m.is_empty()).ok_or(ErrorCode::MissingMethod)?;
        Self::ALL
            .into_iter()
            .find(|op| op.class().eq_ignore_ascii_case(class) && op.method().eq_ignore_ascii_case(method))
            .ok_or(DomainError::new(ErrorCode::IncorrectMethod))
    }
}

/// A parameter some operation reads, by its name (lower case); a name means the same everywhere.
pub fn param(name: &str) -> Option<Param> {
    Operation::ALL.into_iter().flat_map(|op| op.spec().params).find(|p| p.name == name).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_has_one_kind_and_every_method_one_class() {
        for op in Operation::ALL {
            for p in op.spec().params {
                assert_eq!(param(p.name), Some(*p), "{} reads {} as another kind", op.method(), p.name);
            }
            assert_eq!(Operation::by_method(op.method()), Some(op));
        }
        assert_eq!(param("markread").map(|p| p.kind), Some(ParamKind::Boolean));
        assert_eq!(param("user"), None, "credentials are the doors' business");
    }

    #[test]
    fn class_and_method_resolve_in_the_specs_order() {
        assert_eq!(Operation::resolve(Some("CHAT"), Some("SendMessage")), Ok(Operation::SendMessage));
        let code = |c, m| Operation::resolve(c, m).err().map(|e| e.code);
        assert_eq!(code(None, Some("x")), Some(ErrorCode::MissingClass));
        assert_eq!(code(Some("sms"), None), Some(ErrorCode::IncorrectClass));
        assert_eq!(code(Some("chat"), None), Some(ErrorCode::MissingMethod));
        assert_eq!(code(Some("chat"), Some("setwebhook")), Some(ErrorCode::IncorrectMethod));
    }
}
