/** Props of one on/off switch. */
export interface SwitchProps {
  on: boolean;
  /** Id of the element that names the switch. */
  labelledBy: string;
  /** Shown on and not operable (the required category). */
  disabled?: boolean;
  onChange?: (on: boolean) => void;
}

/**
 * A switch is a native button with role=switch and aria-checked: it is focusable and Space/Enter toggle it
 * without any key handling of ours. The knob is drawn by CSS from aria-checked.
 */
export function Switch({ on, labelledBy, disabled, onChange }: SwitchProps) {
  return (
    <button
      type="button"
      role="switch"
      class="sw"
      aria-checked={on}
      aria-labelledby={labelledBy}
      disabled={disabled}
      onClick={() => onChange?.(!on)}
    />
  );
}
