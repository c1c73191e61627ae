// Options page: Rules · Wallet · Payments · Tokens, one section at a time, addressed by the URL hash
// so the popup can link straight to a section (#ledger).
import '../common/theme.css';
import './options.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Settings } from '../../model/model.ts';
import { Banner, Brand, Spinner } from '../common/components.tsx';
import { useApi } from '../common/use-api.ts';
import { Ledger } from './ledger.tsx';
import { RulesEditor } from './rules-editor.tsx';
import { Tokens } from './tokens.tsx';
import { WalletSettings } from './wallet-settings.tsx';

const SECTIONS = [
  { id: 'rules', label: 'Rules', title: 'Spending rules', intro: 'What may be paid without asking you first.' },
  { id: 'wallet', label: 'Wallet', title: 'Wallet', intro: 'Where payments come from.' },
  { id: 'ledger', label: 'Payments', title: 'Payments', intro: 'Everything paid, with proof of payment.' },
  { id: 'tokens', label: 'Tokens', title: 'Tokens held', intro: 'Access bought from sites, ready for reuse.' },
] as const;
type SectionId = (typeof SECTIONS)[number]['id'];

function sectionFromHash(): SectionId {
  const h = location.hash.slice(1);
  return SECTIONS.find((s) => s.id === h)?.id ?? 'rules';
}

function App() {
  const [section, setSection] = useState<SectionId>(sectionFromHash());
  const settings = useApi('getSettings', {});
  useEffect(() => {
    const on = () => setSection(sectionFromHash());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const meta = SECTIONS.find((s) => s.id === section) ?? SECTIONS[0];
  const needsSettings = section === 'rules' || section === 'wallet';
  const onSaved = (s: Settings) => settings.set(s);

  return (
    <div class="options">
      <nav class="sidebar" aria-label="Settings sections">
        <Brand subtitle="Settings" />
        <ul>
          {SECTIONS.map((s) => (
            <li key={s.id}>
              <a href={`#${s.id}`} aria-current={s.id === section ? 'page' : undefined}>
                {s.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main class="content">
        <header class="page-head">
          <h1>{meta.title}</h1>
          <p class="muted">{meta.intro}</p>
        </header>
        {needsSettings && settings.error && (
          <Banner kind="error">
            Could not load your settings: {settings.error}{' '}
            <button type="button" class="btn small" onClick={() => void settings.reload()}>
              Try again
            </button>
          </Banner>
        )}
        {needsSettings && !settings.data && !settings.error && <Spinner />}
        {section === 'rules' && settings.data && <RulesEditor settings={settings.data} onSaved={onSaved} />}
        {section === 'wallet' && settings.data && <WalletSettings settings={settings.data} onSaved={onSaved} />}
        {section === 'ledger' && <Ledger />}
        {section === 'tokens' && <Tokens />}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
