/** The shape of a UI test module under test/e2e/ui/: each exports `tests`. */
import type { Page } from 'playwright-core';

export interface UiTestContext {
  page: Page;
  /** Saves `<outDir>/<name>.png` (and keeps it for the README and for reviewers). */
  shot: (name: string) => Promise<void>;
  /** This test's own copy of test/fixtures/e2e-workspace, opened as the workspace folder. */
  workspace: string;
  /** The text of a file of this test's workspace, as on disk. */
  fileText: (name: string) => string;
}

export interface UiTest {
  name: string;
  /** Also run against the extension installed from the packaged .vsix (no development path). */
  fromVsix?: boolean;
  /** The whole test's time limit (default 120 s). */
  timeoutMs?: number;
  run(context: UiTestContext): Promise<void>;
}
