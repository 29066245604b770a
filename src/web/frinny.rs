//! Frinny helpers on top of [`AgentManager::request`] and `subscribe`: the
//! events of the Frinny backend contract (DESIGN.md), so the Foundry glue
//! does not spell event names itself. Each resolves with the backend's
//! `<event>_response` payload (matched by `request_id`).

use super::manager::AgentManager;
use crate::catalogue::names;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
impl AgentManager {
    /// `query` `{content, actorId?, conversation_history, is_public_chat, ...}`.
    #[wasm_bindgen(js_name = sendQuery, unchecked_return_type = "Promise<any>")]
    pub fn send_query(&self, payload: JsValue) -> Promise {
        self.request(names::QUERY, Some(payload), None)
    }

    /// `character_creation_start` with the creation context.
    #[wasm_bindgen(js_name = notifyCharacterCreation, unchecked_return_type = "Promise<any>")]
    pub fn notify_character_creation(&self, context: JsValue) -> Promise {
        self.request(names::CHARACTER_CREATION_START, Some(context), None)
    }

    /// `combat_turn` with the combat state.
    #[wasm_bindgen(js_name = notifyCombatTurn, unchecked_return_type = "Promise<any>")]
    pub fn notify_combat_turn(&self, state: JsValue) -> Promise {
        self.request(names::COMBAT_TURN, Some(state), None)
    }

    /// `level_up` with the level-up data.
    #[wasm_bindgen(js_name = notifyLevelUp, unchecked_return_type = "Promise<any>")]
    pub fn notify_level_up(&self, data: JsValue) -> Promise {
        self.request(names::LEVEL_UP, Some(data), None)
    }

    /// `combat_start` with the combat data.
    #[wasm_bindgen(js_name = notifyCombatStart, unchecked_return_type = "Promise<any>")]
    pub fn notify_combat_start(&self, data: JsValue) -> Promise {
        self.request(names::COMBAT_START, Some(data), None)
    }

    /// `feedback` `{messageId, type}` about one of Frinny's messages.
    #[wasm_bindgen(js_name = submitFeedback, unchecked_return_type = "Promise<any>")]
    pub fn submit_feedback(
        &self,
        #[wasm_bindgen(js_name = messageId)] message_id: JsValue,
        #[wasm_bindgen(js_name = type)] kind: JsValue,
    ) -> Promise {
        let body = Object::new();
        let _ = Reflect::set(&body, &JsValue::from_str("messageId"), &message_id);
        let _ = Reflect::set(&body, &JsValue::from_str("type"), &kind);
        self.request(names::FEEDBACK, Some(body.into()), None)
    }

    /// Calls `callback({isTyping})` on every `typing_status` event. Returns
    /// the unsubscribe function.
    #[wasm_bindgen(js_name = onTypingStatus, unchecked_return_type = "() => void")]
    pub fn on_typing_status(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(status: { isTyping: boolean }) => void")] callback: Function,
    ) -> Result<Function, JsValue> {
        self.subscribe(names::TYPING_STATUS, callback)
    }
}
