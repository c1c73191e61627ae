import { render } from 'preact';

function App() {
  return <h1>L402 Autopilot — Popup</h1>;
}

render(<App />, document.getElementById('app')!);
