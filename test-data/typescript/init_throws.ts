type Config = { url: string };

const config: Config = { url: '' };
if (!config.url) {
  throw new Error('no url configured');
}
export default function (): void {}
