// @openbook/demo: the web components of the demo textbook.  Plain custom
// elements with shadow DOM, no build step, no dependencies.
(() => {
  "use strict";

  const sheet = (css) => {
    const style = document.createElement("style");
    style.textContent = css;
    return style;
  };

  // <ob-info-box variant="info|tip|warning">content</ob-info-box>
  class ObInfoBox extends HTMLElement {
    static get observedAttributes() { return ["variant"]; }

    constructor() {
      super();
      const root = this.attachShadow({ mode: "open" });
      root.append(sheet(`
        :host { display: block; margin: 1em 0; }
        .box { border-left: 0.3em solid var(--ob-accent, #1565c0); padding: 0.6em 1em;
               background: var(--ob-background, #e3f2fd); border-radius: 0.2em; }
        .box.tip { --ob-accent: #2e7d32; --ob-background: #e8f5e9; }
        .box.warning { --ob-accent: #ef6c00; --ob-background: #fff3e0; }
        .label { font-weight: bold; margin-right: 0.4em; }`));
      this.box = document.createElement("div");
      this.label = document.createElement("span");
      this.label.className = "label";
      this.box.append(this.label, document.createElement("slot"));
      root.append(this.box);
    }

    connectedCallback() { this.render(); }
    attributeChangedCallback() { this.render(); }

    render() {
      const variant = ["info", "tip", "warning"].includes(this.getAttribute("variant"))
        ? this.getAttribute("variant") : "info";
      this.box.className = "box " + variant;
      this.label.textContent = { info: "Note:", tip: "Tip:", warning: "Warning:" }[variant];
    }
  }

  // <ob-code-editor language="html" height="12em">initial code</ob-code-editor>
  // The content is the starting code; with language html the result is
  // shown in a sandboxed frame that runs no scripts.
  class ObCodeEditor extends HTMLElement {
    constructor() {
      super();
      const root = this.attachShadow({ mode: "open" });
      root.append(sheet(`
        :host { display: block; margin: 1em 0; }
        .editor { display: grid; grid-template-columns: 1fr 1fr; gap: 0.5em; }
        textarea { font-family: monospace; font-size: 0.95em; width: 100%;
                   box-sizing: border-box; resize: vertical; }
        iframe { width: 100%; height: 100%; border: 1px solid #ccc; background: white; }
        .editor.plain { grid-template-columns: 1fr; }`));
      this.editor = document.createElement("div");
      this.editor.className = "editor";
      this.textarea = document.createElement("textarea");
      this.textarea.spellcheck = false;
      this.textarea.setAttribute("aria-label", "Code");
      this.preview = document.createElement("iframe");
      this.preview.setAttribute("sandbox", "");
      this.preview.title = "Preview";
      this.editor.append(this.textarea, this.preview);
      root.append(this.editor);
      this.textarea.addEventListener("input", () => {
        this.update();
        this.dispatchEvent(new Event("input", { bubbles: true, composed: true }));
      });
    }

    get value() { return this.textarea.value; }

    connectedCallback() {
      if (!this.started) {
        this.started = true;
        this.textarea.value = this.textContent.trim();
      }
      const height = this.getAttribute("height");
      this.textarea.style.height = /^[0-9.]+(px|em|rem|vh)$/.test(height || "") ? height : "10em";
      const html = (this.getAttribute("language") || "html") === "html";
      this.editor.classList.toggle("plain", !html);
      this.preview.hidden = !html;
      this.update();
    }

    update() {
      if (!this.preview.hidden)
        this.preview.srcdoc = this.textarea.value;
    }
  }

  // <ob-quiz shuffle="true"> <ob-quiz-question answer="..."> ... </ob-quiz>
  class ObQuiz extends HTMLElement {
    constructor() {
      super();
      const root = this.attachShadow({ mode: "open" });
      root.append(sheet(`
        :host { display: block; margin: 1em 0; padding: 0.5em 1em; border: 1px solid #ccc;
                border-radius: 0.3em; }
        .score { color: #555; font-size: 0.9em; }`));
      this.score = document.createElement("p");
      this.score.className = "score";
      root.append(document.createElement("slot"), this.score);
      this.addEventListener("ob-quiz-answered", () => this.render());
    }

    questions() { return [...this.children].filter((c) => c.localName === "ob-quiz-question"); }

    connectedCallback() {
      if (this.getAttribute("shuffle") === "true" && !this.shuffled) {
        this.shuffled = true;
        const qs = this.questions();
        for (let i = qs.length - 1; i > 0; i--) {
          const j = Math.floor(Math.random() * (i + 1));
          [qs[i], qs[j]] = [qs[j], qs[i]];
        }
        qs.forEach((q) => this.append(q));
      }
      this.render();
    }

    render() {
      const qs = this.questions();
      const right = qs.filter((q) => q.correct).length;
      this.score.textContent = `${right} of ${qs.length} answered correctly`;
    }
  }

  // <ob-quiz-question answer="b">question text</ob-quiz-question>
  class ObQuizQuestion extends HTMLElement {
    constructor() {
      super();
      this.correct = false;
      const root = this.attachShadow({ mode: "open" });
      root.append(sheet(`
        :host { display: block; margin: 0.8em 0; }
        form { margin-top: 0.4em; display: flex; gap: 0.4em; align-items: center; }
        .right { color: #2e7d32; } .wrong { color: #c62828; }`));
      const form = document.createElement("form");
      this.input = document.createElement("input");
      this.input.setAttribute("aria-label", "Your answer");
      const button = document.createElement("button");
      button.textContent = "Check";
      this.result = document.createElement("output");
      form.append(this.input, button, this.result);
      root.append(document.createElement("slot"), form);
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        this.check();
      });
    }

    check() {
      const norm = (s) => (s || "").trim().toLowerCase();
      this.correct = norm(this.input.value) !== "" &&
        norm(this.input.value) === norm(this.getAttribute("answer"));
      this.result.textContent = this.correct ? "✓ Correct" : "✗ Try again";
      this.result.className = this.correct ? "right" : "wrong";
      this.dispatchEvent(new CustomEvent("ob-quiz-answered",
        { bubbles: true, composed: true, detail: { correct: this.correct } }));
    }
  }

  const define = (name, cls) => {
    if (!customElements.get(name))
      customElements.define(name, cls);
  };
  define("ob-info-box", ObInfoBox);
  define("ob-code-editor", ObCodeEditor);
  define("ob-quiz", ObQuiz);
  define("ob-quiz-question", ObQuizQuestion);
})();
