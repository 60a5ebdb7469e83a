// One implementation for both browser packages: tsup bundles it into each, so neither depends on the other.
export { createOnlineManager, type OnlineManager } from '../../core/src/onlineManager';
