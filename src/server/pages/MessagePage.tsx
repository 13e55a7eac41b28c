/**
 * @module
 * A short page: a title, a message and, optionally, one form with a confirm button (one-click unsubscribe
 * confirmation, erasure confirmation) or a link back. Server-rendered only: it needs no script.
 */

export interface MessagePageProps {
  lang: string;
  title: string;
  text: string;
  /** A second paragraph, muted. */
  hint?: string;
  form?: { action: string; fields: Record<string, string>; submit: string };
  back?: { href: string; label: string };
  /** Renders the title as an alert (errors). */
  alert?: boolean;
}

export function MessagePage(props: MessagePageProps) {
  return (
    <main class="r auto pg">
      <div class="hd">
        <h1>{props.title}</h1>
      </div>
      <div class="bd">
        <p class={props.alert ? 'nt er' : undefined} role={props.alert ? 'alert' : undefined}>
          {props.text}
        </p>
        {props.hint && <p class="mu">{props.hint}</p>}
        {props.form && (
          <form method="post" action={props.form.action}>
            {Object.entries(props.form.fields).map(([name, value]) => (
              <input type="hidden" name={name} value={value} key={name} />
            ))}
            <div class="bs">
              <button type="submit" class="b">
                {props.form.submit}
              </button>
            </div>
          </form>
        )}
        {props.back && (
          <p>
            <a class="ln" href={props.back.href}>
              {props.back.label}
            </a>
          </p>
        )}
      </div>
    </main>
  );
}
