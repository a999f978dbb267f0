/** Typed access to the `sparsityStudio.*` settings. */
import * as vscode from 'vscode';
import { SETTINGS, SETTINGS_SECTION, type SettingKey } from './contributions';

export class Config {
  get<K extends SettingKey>(key: K): (typeof SETTINGS)[K] {
    return vscode.workspace.getConfiguration(SETTINGS_SECTION).get(key, SETTINGS[key]);
  }
}
