/** @type {import('next').NextConfig} */
const nextConfig = {
  // The App Router's default, spelled out: the page-view test relies on StrictMode's double effects.
  reactStrictMode: true,
};

export default nextConfig;
