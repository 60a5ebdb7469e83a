export { default } from '../../tsup.browser';
