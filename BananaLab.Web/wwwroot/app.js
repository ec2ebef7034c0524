// Small browser helpers for the studio (theme choice, clipboard, file downloads).
window.bananaLab = {
    getTheme: () => localStorage.getItem("bananalab-theme"),
    setTheme: (value) => localStorage.setItem("bananalab-theme", value),
    copy: async (text) => {
        try { await navigator.clipboard.writeText(text); return true; } catch { return false; }
    },
    // The studio form's last values, so a reload brings them back.
    saveStudioForm: (json) => { try { localStorage.setItem("bananalab-studio-form", json); } catch { } },
    loadStudioForm: () => { try { return localStorage.getItem("bananalab-studio-form"); } catch { return null; } },
    // After Generate: bring the new run into view (on a phone it is below the form).
    scrollToRun: (taskId) => {
        const run = document.querySelector(`[data-task-id="${taskId}"]`);
        if (run) run.scrollIntoView({ behavior: "smooth", block: "start" });
    },
};
