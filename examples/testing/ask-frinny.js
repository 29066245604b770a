// A piece of a Foundry module's own code, of the kind its tests exercise:
// it asks Frinny and turns each failure the client reports (by its stable
// `code`) into something to tell the player.

/**
 * Frinny's answer to `question`, or a sentence saying why there is none.
 * @param {import('frinny-agent').AgentManager} agent
 * @param {string} question
 * @returns {Promise<string>}
 */
export async function askFrinny(agent, question) {
  try {
    const { content } = await agent.sendQuery({ content: question, is_public_chat: false });
    return content;
  } catch (err) {
    switch (err.code) {
      case 'TIMEOUT':
        return 'Frinny is taking too long; try again.';
      case 'DISCONNECTED':
        return 'The connection to Frinny dropped; try again.';
      case 'SERVER_ERROR':
        return err.serverCode === 'RATE_LIMITED' ? 'Slow down a little, then ask again.' : `Frinny could not answer: ${err.message}`;
      default:
        throw err;
    }
  }
}
