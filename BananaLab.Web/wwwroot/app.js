// Small browser helpers for the studio (theme choice, time zone, clipboard).
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
        copy: async (text) => {
            try { await navigator.clipboard.writeText(text); return true; } catch { return false; }
        },
    };
})();
