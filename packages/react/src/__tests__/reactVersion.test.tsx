import { render } from '@testing-library/react';
import { version } from 'react';
import { version as domVersion } from 'react-dom';
import { expect, it } from 'vitest';
import { RealtimeProvider, useConnectionState } from '../index';

// vitest.workspace.ts runs this folder twice: React 19 (project `react`) and React 18 (`react-18`).
const major = process.env.SIGHTLINE_REACT_MAJOR;

it(`runs on React ${major}, with one React for the package, Testing Library and react-dom`, () => {
  expect(version.split('.')[0]).toBe(major);
  expect(domVersion).toBe(version);
  // A hook of the package rendered by Testing Library: two React copies would throw "Invalid hook call".
  function State() {
    return <p>{useConnectionState().state}</p>;
  }
  const { container } = render(
    <RealtimeProvider>
      <State />
    </RealtimeProvider>,
  );
  expect(container.textContent).toBe('connecting');
});
