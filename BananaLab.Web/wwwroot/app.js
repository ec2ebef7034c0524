// Small browser helpers for the studio (theme choice, clipboard, file downloads).
window.bananaLab = {
    getTheme: () => localStorage.getItem("bananalab-theme"),
    setTheme: (value) => localStorage.setItem("bananalab-theme", value),
    copy: async (text) => {
        try { await navigator.clipboard.writeText(text); return true; } catch { return false; }
    },
};
