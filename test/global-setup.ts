// Placeholder until fixture generation (issue 3) lands: nothing to prepare yet.
export default function setup(): void {}
