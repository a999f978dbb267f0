/**
 * The server's work-done progress as cancellable notifications. vscode-languageclient shows
 * server-created progress in the status bar (`ProgressLocation.Window`), where VS Code draws no
 * cancel button; a pruning session must be stoppable from its progress, so this client answers
 * `window/workDoneProgress/create` itself and shows each token as a notification whose Cancel
 * sends `window/workDoneProgress/cancel` (the server stops the session with a checkpoint).
 */
import * as vscode from 'vscode';
import {
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
  type LanguageClient,
  type ProgressToken,
  type WorkDoneProgressBegin,
  type WorkDoneProgressReport,
} from 'vscode-languageclient/node';

/** Takes over progress creation; call after `client.start()` (which registers the default handler). */
export function showProgressAsNotifications(client: LanguageClient): void {
  client.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => follow(client, token));
}

function follow(client: LanguageClient, token: ProgressToken): void {
  let update: ((value: WorkDoneProgressReport) => void) | undefined;
  let finish: (() => void) | undefined;
  let lastPercentage = 0;
  const subscription = client.onProgress(WorkDoneProgress.type, token, (value) => {
    switch (value.kind) {
      case 'begin':
        start(value);
        break;
      case 'report':
        update?.(value);
        break;
      case 'end':
        subscription.dispose();
        finish?.();
        break;
    }
  });

  function start(begin: WorkDoneProgressBegin): void {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: begin.title, cancellable: begin.cancellable === true },
      (progress, cancellation) =>
        new Promise<void>((resolve) => {
          finish = resolve;
          update = (value) => {
            const increment =
              value.percentage === undefined ? undefined : Math.max(0, value.percentage - lastPercentage);
            if (value.percentage !== undefined) lastPercentage = Math.max(lastPercentage, value.percentage);
            progress.report({ message: value.message, increment });
          };
          update({ kind: 'report', message: begin.message, percentage: begin.percentage });
          cancellation.onCancellationRequested(() => {
            void client.sendNotification(WorkDoneProgressCancelNotification.type, { token });
          });
        }),
    );
  }
}
