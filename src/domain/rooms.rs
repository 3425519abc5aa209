//! Rooms (SPEC §1, §3.6), what is done with them: listed, created and changed, found by name for a
//! message, in the inbox of their members only, answered in by a member (a received message of the room
//! with its author). What a room is: `room.rs`.

use super::console_ports::InboxChat;
use super::error::{DomainError, DomainResult, ErrorCode};
use super::model::{Author, InboundMessage, Platform, Principal, Scope};
use super::room::{Room, RoomChange, chat_of, check_name, room_of};
use super::store_error::StoreError;
use super::values::typed_text;

impl super::gateway::Gateway {
    /// The account's rooms (`chat:read`).
    pub async fn rooms(&self, principal: &Principal) -> DomainResult<Vec<Room>> {
        require(principal, Scope::ChatRead)?;
        Ok(self.store.rooms(principal.account_id).await?)
    }

    /// Creates or changes a room (`chat:write`); members added or removed see it, or no longer see it,
    /// in their consoles from their inbox's next reading.
    pub async fn save_room(&self, principal: &Principal, change: &RoomChange) -> DomainResult<Room> {
        require(principal, Scope::ChatWrite)?;
        let mut change = change.clone();
        if let Some(name) = &change.name {
            change.name = Some(check_name(name)?);
        } else if change.id.is_none() {
            return Err(DomainError::missing("name"));
        }
        let saved = self.store.save_room(principal.account_id, &change).await.map_err(|e| match e {
            StoreError::NotFound(_) => DomainError::incorrect("id").because("no such room".into()),
            other => other.into(),
        });
        let account = principal.account_id;
        self.rooms_by_name.0.retain(|(a, _), _| *a != account);
        saved
    }

    /// The room `name`, created on first use with `members` (not public).
    pub async fn room(&self, principal: &Principal, name: &str, members: &[String]) -> DomainResult<Room> {
        let name = check_name(name)?;
        let key = (principal.account_id, name);
        if let Some(room) = self.rooms_by_name.0.get(&key) {
            require(principal, Scope::ChatRead)?;
            return Ok(room);
        }
        let name = key.1;
        let rooms = self.rooms(principal).await?;
        if let Some(room) = rooms.into_iter().find(|r| r.name == name) {
            self.rooms_by_name.0.insert((principal.account_id, name), room.clone());
            return Ok(room);
        }
        let change =
            RoomChange { name: Some(name), members: Some(members.to_vec()), ..RoomChange::default() };
        self.save_room(principal, &change).await
    }

    /// The console's inbox for `login`: rooms only for their members (and public ones for all).
    pub async fn inbox_for(
        &self,
        principal: &Principal,
        login: &str,
        limit: u32,
    ) -> DomainResult<Vec<InboxChat>> {
        let inbox = self.inbox(principal.account_id, limit).await?;
        let rooms = self.store.rooms(principal.account_id).await?;
        Ok(inbox
            .into_iter()
            .filter(|chat| {
                let m = &chat.last;
                match (m.platform, room_of(&m.destination)) {
                    (Platform::Operator, Some(name)) => {
                        rooms.iter().find(|r| r.name == name).is_none_or(|r| r.open_to(login))
                    }
                    _ => true,
                }
            })
            .collect())
    }

    /// `ACCESS_DENIED` unless `login` sees the room `room` (a member, or a public room); a chat named
    /// like a room that has none is the account's, as any chat.
    pub async fn check_room_open_to(
        &self,
        principal: &Principal,
        room: &str,
        login: &str,
    ) -> DomainResult<()> {
        let rooms = self.store.rooms(principal.account_id).await?;
        match rooms.iter().find(|r| r.name == room) {
            Some(r) if !r.open_to(login) => Err(DomainError::new(ErrorCode::AccessDenied)),
            _ => Ok(()),
        }
    }

    /// A member's answer in a room: a received message of the room's chat, its author the member.
    pub async fn answer_in_room(
        &self,
        principal: &Principal,
        channel_id: i64,
        room: &str,
        login: &str,
        text: &str,
    ) -> DomainResult<i64> {
        require(principal, Scope::ChatWrite)?;
        let rooms = self.store.rooms(principal.account_id).await?;
        if !rooms.iter().any(|r| r.name == room && r.open_to(login)) {
            return Err(DomainError::new(ErrorCode::AccessDenied));
        }
        let channel = self.channels().channel(principal.account_id, channel_id).await?;
        let channel = channel
            .filter(|c| c.platform == Platform::Operator)
            .ok_or(DomainError::param(ErrorCode::ChannelNotFound, "platformid"))?;
        let now = chrono::Utc::now().timestamp_millis();
        let mut m = InboundMessage::typed(channel.id, chat_of(room), typed_text(text)?, now);
        m.details.author = Some(Author { name: login.to_string(), id: login.to_string() });
        self.receive(&m).await
    }
}

fn require(principal: &Principal, scope: Scope) -> DomainResult<()> {
    if principal.scopes.allows(scope) { Ok(()) } else { Err(DomainError::new(ErrorCode::AccessDenied)) }
}
