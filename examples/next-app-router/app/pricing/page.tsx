import { Counter } from './Counter';

export default function Pricing() {
  return (
    <>
      <h1>Pricing</h1>
      <Counter />
    </>
  );
}
