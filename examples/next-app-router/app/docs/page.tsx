export default async function Docs({ searchParams }: { searchParams: Promise<{ tab?: string }> }) {
  const { tab = 'api' } = await searchParams;
  return <h1>Docs: {tab}</h1>;
}
