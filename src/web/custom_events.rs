//! `defineEvents`: custom events (`x-<module>:<event>`, see
//! [`crate::catalogue::custom`]) declared for the GM's world, as an
//! `events:define` request through [`AgentManager::request`]. The client
//! sends the declarations as they are and the server checks them (one
//! set of rules, and no spec reader in the wasm); custom events
//! themselves go through `emit`, `request` and `subscribe` like any other
//! name.

use super::errors::js_error;
use super::manager::AgentManager;
use crate::catalogue::names;
use crate::core::ErrorCode;
use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_CUSTOM_EVENTS: &str = r#"
/** The JSON type a payload field must have (the event catalogue's kinds). */
export type FieldKind = 'string' | 'non_empty_string' | 'bool' | 'number' | 'unsigned_integer'
  | 'string_or_number' | 'array' | 'object' | 'any';

/** One field of a custom event's payload. */
export interface CustomFieldSpec {
  /** The JSON member name. */
  name: string;
  /** The JSON type it must have. */
  kind: FieldKind;
  /** Whether it must be present and not null (default false). */
  required?: boolean;
}

/** A custom event's declaration, for `defineEvents` or the server's `--events` file. */
export interface CustomEventSpec {
  /** `x-<module>:<event>`: a lowercase Foundry module id and an event name. */
  name: `x-${string}:${string}`;
  /** Which ways it travels: `both` events a client emits are relayed to the rest of its world. */
  direction: 'client_to_server' | 'server_to_client' | 'both';
  /** Whether a GM may relay it to the table with `broadcastEvent` (default false). */
  broadcastable?: boolean;
  /** Known fields; others pass through. */
  fields?: CustomFieldSpec[];
  /** Declared fields of which at least one must be present. */
  anyOf?: string[];
  /** One line for people (200 characters at most). */
  doc?: string;
}

/** What `defineEvents` resolves with. */
export interface DefineEventsResult {
  ok: true;
  /** The names declared (or replaced). */
  defined: string[];
  /** How many custom events the world has declared now. */
  count: number;
}
"#;

#[wasm_bindgen]
impl AgentManager {
    /// Declares custom events for the world (GM only on the reference
    /// server): an `events:define` request `{events: specs}`, resolved with
    /// `{ok, defined, count}`. A refusal rejects with SERVER_ERROR and the
    /// server's `serverCode` (FORBIDDEN, INVALID_PAYLOAD, SPEC_TOO_LARGE,
    /// TOO_MANY_EVENTS); `specs` that is not an array rejects with
    /// INVALID_PAYLOAD before anything is sent.
    #[wasm_bindgen(js_name = defineEvents, unchecked_return_type = "Promise<DefineEventsResult>")]
    pub fn define_events(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CustomEventSpec[]")] specs: JsValue,
    ) -> Promise {
        if !Array::is_array(&specs) {
            return Promise::reject(&js_error(
                ErrorCode::InvalidPayload.as_str(),
                "defineEvents(specs): specs must be an array of event declarations",
            ));
        }
        let body = Object::new();
        let _ = Reflect::set(&body, &JsValue::from_str("events"), &specs);
        self.request(names::EVENTS_DEFINE, Some(body.into()), None)
    }
}
