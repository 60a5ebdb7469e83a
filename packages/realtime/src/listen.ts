// One implementation for both browser packages: tsup bundles it into each, so neither depends on the other.
export { listen } from '../../core/src/listen';
