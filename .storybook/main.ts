// Storybook 10 configuration. Panels (@sightline/panels) and their stories arrive in a later release;
// this file fixes the conventions now: stories live beside each package's components.
const config = {
  stories: ['../packages/*/src/**/*.stories.@(ts|tsx)'],
  framework: { name: '@storybook/react-vite', options: {} },
  core: { disableTelemetry: true },
};

export default config;
