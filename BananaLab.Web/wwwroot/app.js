// Small browser helpers for the studio (theme choice, time zone, clipboard, the studio form, scrolling).
(() => {
    // A year, whole site; the server reads these cookies so its first render matches the viewer (Components/Viewer/ViewerCookies.cs).
    const remember = (name, value) => {
        document.cookie = `${name}=${encodeURIComponent(value)}; path=/; max-age=31536000; samesite=lax`;
    };
    try {
        remember("bananalab-tz", Intl.DateTimeFormat().resolvedOptions().timeZone);
    } catch {
        // No Intl time zone support: the server keeps showing UTC, labelled as such.
    }
    window.bananaLab = {
        setTheme: (value) => remember("bananalab-theme", value),
        // The browser's IANA time zone, for a first page rendered before the cookie existed.
        timeZone: () => { try { return Intl.DateTimeFormat().resolvedOptions().timeZone; } catch { return null; } },
        copy: async (text) => {
            try { await navigator.clipboard.writeText(text); return true; } catch { return false; }
        },
        // The studio form's last values, per account, so a reload brings them back (and nobody else's).
        saveStudioForm: (userId, json) => { try { localStorage.setItem(`bananalab-studio-form:${userId}`, json); } catch { } },
        loadStudioForm: (userId) => { try { return localStorage.getItem(`bananalab-studio-form:${userId}`); } catch { return null; } },
        // After Generate: bring the new run into view (on a phone it is below the form).
        scrollToRun: (taskId) => {
            const run = document.querySelector(`[data-task-id="${taskId}"]`);
            if (run) run.scrollIntoView({ behavior: "smooth", block: "start" });
        },
    };
})();
