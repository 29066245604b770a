// <frinny-devtools> (frinny-agent/devtools) in a Foundry window, for the
// GM: the client setting `frinny.devtools` opens it (and closes it when
// turned off). The devtools entry is imported only when the window first
// opens, so a table that never uses it loads nothing of it; the panel is
// attached to the wasm client under the drop-in (`agentManager.agent`)
// while the window is open and let go of when it closes, so the client's
// inspector tap costs nothing the rest of the time.
//
// Like the chat window: an ApplicationV2 on Foundry v13, an Application on
// v12; the window is only a frame around the element.

const MODULE_ID = 'frinny';
const devtoolsModule = () => import('../lib/frinny-agent/js/devtools/index.js');

/**
 * A `<frinny-devtools>` attached to `manager`'s client, in `container`.
 * @param {HTMLElement} container @param {any} manager the drop-in AgentManager
 */
async function mountPanel(container, manager) {
  const { defineDevtools } = await devtoolsModule();
  defineDevtools();
  const panel = document.createElement('frinny-devtools');
  panel.style.setProperty('--frinny-devtools-height', 'calc(100% - 3em)');
  panel.style.height = '100%';
  container.replaceChildren(panel);
  panel.agent = manager.agent;
  return panel;
}

/**
 * The window class for this Foundry: ApplicationV2 on v13, Application on v12.
 * @param {{manager: any}} deps
 * @returns {any} a class whose instances are the devtools window
 */
export function devtoolsWindowClass({ manager }) {
  const title = 'frinny.devtools.title';
  const ApplicationV2 = globalThis.foundry?.applications?.api?.ApplicationV2;
  if ((game.release?.generation ?? 12) >= 13 && ApplicationV2) {
    return class FrinnyDevtoolsWindow extends ApplicationV2 {
      static DEFAULT_OPTIONS = {
        id: 'frinny-devtools',
        classes: ['frinny-devtools-window'],
        window: { title, icon: 'fa-solid fa-bug', resizable: true },
        position: { width: 720, height: 560 },
      };

      /** @type {any} the panel, while the window is open */
      panel = null;

      async _renderHTML() {
        return null;
      }

      async _replaceHTML(_result, content) {
        if (this.panel?.isConnected && content.contains(this.panel)) return;
        this.panel = await mountPanel(content, manager);
      }

      _onClose(options) {
        if (this.panel) this.panel.agent = null;
        this.panel?.remove();
        this.panel = null;
        super._onClose?.(options);
      }
    };
  }
  return class FrinnyDevtoolsWindow extends Application {
    static get defaultOptions() {
      return {
        ...super.defaultOptions,
        id: 'frinny-devtools',
        title,
        classes: ['frinny-devtools-window'],
        width: 720,
        height: 560,
        resizable: true,
        popOut: true,
      };
    }

    /** @type {any} the panel, while the window is open */
    panel = null;

    async _renderInner() {
      const body = document.createElement('div');
      body.className = 'frinny-devtools-body';
      return globalThis.jQuery ? globalThis.jQuery(body) : body;
    }

    activateListeners(html) {
      super.activateListeners?.(html);
      const element = html?.[0] ?? html;
      mountPanel(element, manager).then((panel) => {
        this.panel = panel;
      }, (err) => console.error('Frinny | could not open the devtools', err));
    }

    async close(options) {
      if (this.panel) this.panel.agent = null;
      this.panel = null;
      return super.close(options);
    }
  };
}

/**
 * Registers the `frinny.devtools` client setting (in the settings menu
 * for GMs only: `restricted`); `onChange` shows or hides the window through
 * `apply(on)`.
 * @param {(on: boolean) => void} apply
 */
export function registerDevtoolsSetting(apply) {
  game.settings.register(MODULE_ID, 'devtools', {
    name: 'frinny.settings.devtools.name',
    hint: 'frinny.settings.devtools.hint',
    scope: 'client',
    config: true,
    restricted: true,
    type: Boolean,
    default: false,
    onChange: (value) => apply(Boolean(value)),
  });
}

/**
 * Opens or closes `app` for `on`, for a GM only (a player's client never
 * opens it, whatever is stored).
 * @param {any} app @param {boolean} on
 */
export async function showDevtools(app, on) {
  if (!app || !game.user?.isGM) return;
  if (on && !app.rendered) await app.render(true);
  else if (!on && app.rendered) await app.close();
}
