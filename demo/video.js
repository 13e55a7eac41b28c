// The stand-in video provider sets its own cookie when it loads (which is why it waits for consent).
// biome-ignore lint/suspicious/noDocumentCookie: the stand-in provider sets its cookie the way real ones do
document.cookie = '_demo_video=1; path=/; SameSite=Lax';
