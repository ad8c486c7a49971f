// Runs in: the renderer. Which page is shown, kept in the address's #fragment so reload and back keep it
// (a fragment change is not a navigation, so the desktop app's navigation lock leaves it alone).
export const PAGES = ['datasets', 'searches', 'apply', 'settings'] as const;
export type Page = (typeof PAGES)[number];

export const PAGE_TITLES: Record<Page, string> = {
  datasets: 'Datasets',
  searches: 'Searches',
  apply: 'Apply to scans',
  settings: 'Settings',
};

export function pageFromHash(hash: string): Page {
  const name = hash.replace(/^#\/?/, '');
  return (PAGES as readonly string[]).includes(name) ? (name as Page) : 'datasets';
}

export class Navigation {
  page = $state<Page>('datasets');

  constructor(private readonly onChange: (page: Page) => void = () => undefined) {}

  go(page: Page): void {
    if (this.page === page) return;
    this.page = page;
    this.onChange(page);
  }
}
