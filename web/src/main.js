import "./editor.css"; document.getElementById("app").textContent = "hello";
