/* The watch page's Report control: a dialog with the reason and an optional detail, sent to
 * POST /api/v1/rooms/{id}/report/; it confirms once the report is in. */
(function () {
  "use strict";
  const { api } = window.liveroom;
  const root = document.getElementById("watch");
  const openButton = root.querySelector("[data-report-open]");
  const dialog = root.querySelector("[data-report-dialog]");
  const form = root.querySelector("[data-report-form]");
  const error = root.querySelector("[data-report-error]");
  const sent = root.querySelector("[data-report-sent]");
  if (!openButton || !dialog) return;

  openButton.addEventListener("click", () => {
    error.hidden = true;
    dialog.showModal();
  });
  root.querySelector("[data-report-cancel]").addEventListener("click", () => dialog.close());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = form.querySelector('input[name="reason"]:checked');
    const detail = form.querySelector('textarea[name="detail"]').value.trim();
    const body = { reason: reason ? reason.value : "" };
    if (detail) body.detail = detail;
    let answer;
    try {
      answer = await api(`${root.dataset.apiUrl}report/`, { method: "POST", body });
    } catch (err) {
      answer = { ok: false, data: { detail: "The report could not be sent: check your connection and try again." } };
    }
    if (answer.ok) {
      dialog.close();
      form.reset();
      sent.hidden = false;
      openButton.disabled = true;
      openButton.textContent = "Reported";
    } else {
      error.textContent = (answer.data && answer.data.detail) || "The report could not be sent.";
      error.hidden = false;
    }
  });
})();
