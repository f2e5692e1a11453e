// loaxa admin: a little plain JavaScript. Pages work without it; it adds the live spoken
// preview (debounced) and confirmation prompts on dangerous buttons.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="csrf-token"]');

  function preview(box, text, language) {
    var url = box.getAttribute("data-preview-url");
    if (!text.trim()) { box.textContent = "—"; return; }
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.content : "" },
      body: JSON.stringify({ text: text, language: language || "vi" })
    }).then(function (r) { return r.json(); }).then(function (data) {
      box.textContent = data.error ? data.error : data.spoken;
      box.classList.toggle("stale", false);
    }).catch(function () {
      box.textContent = "Không lấy được bản đọc thử. Kiểm tra kết nối rồi gõ tiếp.";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("spoken");
    if (box) {
      var source = document.querySelector("[data-preview-source]");
      var lang = document.querySelector("[data-preview-language]");
      if (source) {
        var timer = null;
        var schedule = function () {
          box.classList.add("stale");
          clearTimeout(timer);
          timer = setTimeout(function () { preview(box, source.value, lang ? lang.value : "vi"); }, 400);
        };
        source.addEventListener("input", schedule);
        if (lang) { lang.addEventListener("change", schedule); }
        preview(box, source.value, lang ? lang.value : "vi");
      } else if (box.hasAttribute("data-preview-text")) {
        preview(box, box.getAttribute("data-preview-text"), box.getAttribute("data-preview-lang"));
      }
    }
    // Emergency form: show only the inputs of the chosen kind of content.
    var order = document.querySelector("[data-emergency-form]");
    if (order) {
      var kind = order.querySelector('select[name="source"]');
      var showKind = function () {
        order.querySelectorAll("[data-source]").forEach(function (part) {
          part.hidden = part.getAttribute("data-source") !== kind.value;
        });
      };
      kind.addEventListener("change", showKind);
      showKind();
    }
    // Tracking board: poll its JSON every few seconds and update the counts and each station in place.
    var board = document.querySelector("[data-board]");
    if (board && window.fetch) {
      var fmt = function (iso) {
        if (!iso) { return ""; }
        var d = new Date(iso);
        return d.toLocaleTimeString("vi-VN", {timeZone: "Asia/Ho_Chi_Minh", hour12: false}) + " " +
          d.toLocaleDateString("vi-VN", {timeZone: "Asia/Ho_Chi_Minh", day: "2-digit", month: "2-digit"});
      };
      var refresh = function () {
        fetch(board.getAttribute("data-board"), {credentials: "same-origin", cache: "no-store"})
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            if (!data) { return; }
            var head = document.querySelector("[data-board-headline]");
            if (head) { head.textContent = data.headline; }
            var state = document.querySelector("[data-board-state]");
            if (state && data.state_label) { state.textContent = data.state_label; }
            Object.keys(data.counts).forEach(function (code) {
              var el = board.querySelector('[data-count="' + code + '"]');
              if (el) { el.textContent = data.counts[code]; }
            });
            data.rows.forEach(function (row) {
              var li = document.querySelector('[data-station="' + row.station + '"]');
              if (!li) { return; }
              li.className = "board-row state-" + row.state;
              var label = li.querySelector('[data-field="label"]');
              label.textContent = row.label;
              label.className = "badge state-" + row.state;
              var detail = li.querySelector('[data-field="detail"]');
              detail.textContent = row.started_at ? "phát lúc " + fmt(row.started_at) :
                row.received_at ? "nhận lúc " + fmt(row.received_at) :
                row.sent_at ? "gửi lúc " + fmt(row.sent_at) + " (" + row.via + ")" : "";
              if (row.plays > 1) { detail.textContent += " · " + row.plays + " lượt"; }
            });
          })
          .catch(function () {});
      };
      setInterval(refresh, 3000);
    }
    // Hôm nay: every 20 s ask for the items' states and update each label, reason and answer buttons in place.
    var day = document.querySelector("[data-today-poll]");
    if (day && window.fetch) {
      var answerTemplate = day.querySelector("template[data-answer-template]");
      var answerFor = function (id) {
        var box = answerTemplate.content.firstElementChild.cloneNode(true);
        box.querySelectorAll("form").forEach(function (form) {
          form.action = form.getAttribute("action").replace("/muc/0/", "/muc/" + id + "/");
        });
        box.querySelectorAll("[id], label[for]").forEach(function (el) {
          if (el.id) { el.id = el.id.replace(/-0$/, "-" + id); }
          if (el.htmlFor) { el.htmlFor = el.htmlFor.replace(/-0$/, "-" + id); }
        });
        return box;
      };
      var update = function () {
        if (document.hidden) { return; }
        fetch(day.getAttribute("data-today-poll"), {credentials: "same-origin", cache: "no-store"})
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            if (!data) { return; }
            if (data.day !== day.getAttribute("data-today-day")) { window.location.reload(); return; }
            data.items.forEach(function (item) {
              var li = document.getElementById("muc-" + item.id);
              if (!li) { return; }
              li.className = "today-item state-" + item.state;
              var badge = li.querySelector(".badge");
              badge.textContent = item.state_label;
              badge.className = "badge item-" + item.state;
              var reason = li.querySelector('[data-field="reason"]');
              reason.textContent = item.reason;
              reason.hidden = !item.reason;
              var actions = li.querySelector("[data-actions]");
              if (item.may_answer && !actions && answerTemplate) { li.appendChild(answerFor(item.id)); }
              if (!item.may_answer && actions) { actions.remove(); }
            });
          })
          .catch(function () {});
      };
      setInterval(update, 20000);
      document.addEventListener("visibilitychange", update);
    }
    // Bulletin form: record with the microphone, listen back, and hand the file to the upload field,
    // so it is saved, checked and loudness-processed exactly as an uploaded recording.
    var recorder = document.querySelector("[data-recorder]");
    if (recorder && navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder &&
        window.DataTransfer) {
      recorder.hidden = false;
      var input = document.querySelector('input[type="file"][name="recording"]');
      var startBtn = recorder.querySelector("[data-rec-start]");
      var stopBtn = recorder.querySelector("[data-rec-stop]");
      var clock = recorder.querySelector("[data-rec-time]");
      var playback = recorder.querySelector("[data-rec-playback]");
      var note = recorder.querySelector("[data-rec-note]");
      var media = null, chunks = [], began = 0, ticker = null;
      var kinds = [["audio/webm;codecs=opus", ".webm"], ["audio/ogg;codecs=opus", ".ogg"], ["audio/mp4", ".m4a"]];
      var kind = kinds.filter(function (k) { return MediaRecorder.isTypeSupported(k[0]); })[0] || ["", ".webm"];
      var seconds = function () { return Math.round((Date.now() - began) / 1000); };
      startBtn.addEventListener("click", function () {
        note.textContent = "";
        navigator.mediaDevices.getUserMedia({audio: true}).then(function (stream) {
          chunks = [];
          media = new MediaRecorder(stream, kind[0] ? {mimeType: kind[0]} : undefined);
          media.ondataavailable = function (e) { if (e.data && e.data.size) { chunks.push(e.data); } };
          media.onstop = function () {
            stream.getTracks().forEach(function (t) { t.stop(); });
            clearInterval(ticker);
            var type = (media.mimeType || kind[0] || "audio/webm").split(";")[0];
            var blob = new Blob(chunks, {type: type});
            var stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "");
            var files = new DataTransfer();
            files.items.add(new File([blob], "ghi-am-" + stamp + kind[1], {type: type}));
            input.files = files.files;
            playback.src = URL.createObjectURL(blob);
            playback.hidden = false;
            note.textContent = "Đã ghi " + seconds() + " giây. Nghe lại ở trên; bấm «Lưu bản nháp» để lưu, " +
              "hoặc «Ghi âm» để ghi lại.";
            startBtn.disabled = false;
            stopBtn.disabled = true;
          };
          media.start(1000);
          began = Date.now();
          clock.textContent = "Đang ghi 0 giây";
          ticker = setInterval(function () { clock.textContent = "Đang ghi " + seconds() + " giây"; }, 500);
          startBtn.disabled = true;
          stopBtn.disabled = false;
        }).catch(function (err) {
          note.textContent = "Không dùng được micrô (" + (err && err.name ? err.name : err) + "). " +
            "Hãy cho phép trình duyệt dùng micrô, hoặc tải tệp ghi âm lên.";
        });
      });
      stopBtn.addEventListener("click", function () {
        if (media && media.state !== "inactive") { media.stop(); }
        clock.textContent = "";
      });
    }
    // Listening before submitting or approving (the server renders with the offline engine in seconds).
    var postJson = function (url, body) {
      return fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json",
                  "X-CSRFToken": token ? token.content : ""},
        body: JSON.stringify(body || {})
      }).then(function (r) { return r.json(); });
    };
    var play = function (box, data) {
      var player = box.querySelector("[data-listen-player]");
      var note = box.querySelector("[data-listen-note]");
      if (data.error) { if (note) { note.textContent = data.error; } return; }
      player.preload = "metadata";
      player.src = data.url;
      player.hidden = false;
      if (note) {
        note.textContent = (data.broadcast ? "Bản sẽ phát: " : "Nghe thử (giọng đọc ngoại tuyến " + data.engine +
          "): ") + data.seconds + " giây." + (data.broadcast ? " Nghe hết rồi duyệt." : "");
      }
      var approve = document.querySelector("[data-approve]");
      if (approve && data.broadcast) { approve.disabled = false; approve.removeAttribute("title"); }
    };
    var textBox = document.querySelector("[data-listen-text]");
    if (textBox) {
      textBox.querySelector("[data-listen-button]").addEventListener("click", function (event) {
        var button = event.currentTarget;
        var source = document.querySelector("[data-preview-source]");
        var lang = document.querySelector("[data-preview-language]");
        var title = document.querySelector('input[name="title"]');
        var note = textBox.querySelector("[data-listen-note]");
        button.disabled = true;
        note.textContent = "Đang đọc thử…";
        postJson(textBox.getAttribute("data-listen-text"), {text: source ? source.value : "",
          language: lang ? lang.value : "vi", title: title ? title.value : ""})
          .then(function (data) { play(textBox, data); })
          .catch(function () { note.textContent = "Không đọc thử được. Kiểm tra kết nối rồi bấm lại."; })
          .then(function () { button.disabled = false; });
      });
    }
    document.querySelectorAll("form[data-listen-form]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.fetch) { return; }
        event.preventDefault();
        var box = form.closest("[data-listen]");
        var button = form.querySelector("button");
        var note = box.querySelector("[data-listen-note]");
        button.disabled = true;
        if (note) { note.textContent = "Đang tạo âm thanh, vui lòng chờ vài giây…"; }
        postJson(form.action).then(function (data) {
          play(box, data);
          if (!data.error) { form.hidden = true; }
        }).catch(function () {
          if (note) { note.textContent = "Không tạo được âm thanh. Kiểm tra kết nối rồi bấm lại."; }
        }).then(function () { button.disabled = false; });
      });
    });
    var waiting = document.querySelector("[data-audio-status]");
    if (waiting && window.fetch) {
      var listenBox = waiting.closest("[data-listen]");
      var poll = setInterval(function () {
        fetch(waiting.getAttribute("data-audio-status"), {credentials: "same-origin", cache: "no-store"})
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            if (!data) { return; }
            if (data.ready) {
              clearInterval(poll);
              play(listenBox, data);
              var form = listenBox.querySelector("[data-listen-form]");
              if (form) { form.hidden = true; }
            } else if (data.error) {
              var note = listenBox.querySelector("[data-listen-note]");
              if (note) { note.textContent = "Chưa tạo được âm thanh: " + data.error; }
            }
          }).catch(function () {});
      }, 3000);
    }
    // Targets picker: add the chosen commune or station to the targets box.
    var pick = document.querySelector("[data-target-pick]");
    var targets = document.querySelector("[data-targets]");
    if (pick && targets) {
      document.querySelector("[data-target-add]").addEventListener("click", function () {
        var value = pick.value;
        if (!value) { return; }
        var have = targets.value.split(/[;\n,]/).map(function (s) { return s.trim(); }).filter(Boolean);
        if (have.indexOf(value) < 0) { have.push(value); }
        targets.value = have.join("; ");
        pick.value = "";
      });
    }
    // Phát trực tiếp: pick stations, speak; the recording goes up in quarter-second chunks, in order.
    var liveBox = document.querySelector("[data-live]");
    if (liveBox) {
      var csrf = token ? token.content : "";
      var goBtn = liveBox.querySelector("[data-live-start]");
      var endBtn = liveBox.querySelector("[data-live-stop]");
      var liveNote = liveBox.querySelector("[data-live-note]");
      var liveTime = liveBox.querySelector("[data-live-time]");
      var session = null;
      liveBox.querySelectorAll("[data-live-commune]").forEach(function (all) {
        all.addEventListener("change", function () {
          liveBox.querySelectorAll('[data-live-station][data-commune="' + all.value + '"]').forEach(function (box) {
            box.checked = all.checked;
          });
        });
      });
      var say = function (text) { liveNote.textContent = text; };
      var post = function (url, body, type) {
        return fetch(url, {method: "POST", credentials: "same-origin", body: body,
                           headers: {"Content-Type": type, "X-CSRFToken": csrf}})
          .then(function (r) { return r.json(); });
      };
      var finish = function (why) {
        var s = session;
        session = null;
        if (!s) { return; }
        clearInterval(s.ticker);
        if (s.media && s.media.state !== "inactive") { s.media.stop(); }
        s.stream.getTracks().forEach(function (t) { t.stop(); });
        s.queue.then(function () {
          return post("/truc-tiep/" + s.id + "/dung", "{}", "application/json");
        }).then(function () {
          say(why || "Đã kết thúc buổi phát trực tiếp. Bản ghi có ở danh sách dưới khi tải lại trang.");
        }).catch(function () { say("Không báo kết thúc được; máy chủ sẽ tự kết thúc sau 30 giây."); });
        goBtn.disabled = false;
        endBtn.disabled = true;
        liveTime.textContent = "";
      };
      goBtn.addEventListener("click", function () {
        var targets = [];
        liveBox.querySelectorAll("[data-live-commune]:checked").forEach(function (b) { targets.push(b.value); });
        liveBox.querySelectorAll("[data-live-station]:checked").forEach(function (b) {
          var all = liveBox.querySelector('[data-live-commune][value="' + b.getAttribute("data-commune") + '"]');
          if (!all || !all.checked) { targets.push(b.value); }
        });
        if (!targets.length) { say("Hãy chọn ít nhất một đài hoặc một xã."); return; }
        if (!navigator.mediaDevices || !window.MediaRecorder) {
          say("Trình duyệt này không ghi âm được. Hãy dùng Chrome, Edge hoặc Firefox bản mới.");
          return;
        }
        goBtn.disabled = true;
        say("Đang mở micrô…");
        navigator.mediaDevices.getUserMedia({audio: {echoCancellation: true, noiseSuppression: true}})
          .then(function (stream) {
            var title = liveBox.querySelector("[data-live-title]").value;
            return post(liveBox.getAttribute("data-start-url"), JSON.stringify({title: title, targets: targets}),
                        "application/json").then(function (data) {
              if (!data.ok) { stream.getTracks().forEach(function (t) { t.stop(); }); throw new Error(data.error); }
              var type = MediaRecorder.isTypeSupported("audio/webm;codecs=opus") ? "audio/webm;codecs=opus" : "";
              var media = new MediaRecorder(stream, type ? {mimeType: type, audioBitsPerSecond: 48000} : undefined);
              session = {id: data.id, stream: stream, media: media, seq: 0, queue: Promise.resolve(),
                         began: Date.now(), ticker: null, count: data.stations.length};
              var s = session;
              media.ondataavailable = function (e) {
                if (!e.data || !e.data.size) { return; }
                var n = s.seq++;
                s.queue = s.queue.then(function () {
                  return post("/truc-tiep/" + s.id + "/am-thanh?seq=" + n, e.data, "application/octet-stream");
                }).then(function (answer) {
                  if (!answer.ok) { finish(answer.error); return; }
                  if (answer.on_air && session === s) {
                    say("Đang phát trực tiếp tới " + s.count + " đài. Nói vào micrô; bấm «Kết thúc» khi xong.");
                  }
                }).catch(function () { say("Mất kết nối với máy chủ; đang thử gửi tiếp…"); });
              };
              media.start(250);
              s.ticker = setInterval(function () {
                var sec = Math.round((Date.now() - s.began) / 1000);
                liveTime.textContent = "Đang nói " + Math.floor(sec / 60) + ":" + ("0" + sec % 60).slice(-2);
              }, 500);
              endBtn.disabled = false;
              say("Đang kết nối tới các đài…");
            });
          })
          .catch(function (err) {
            goBtn.disabled = false;
            say(err && err.message ? err.message : "Không dùng được micrô. Hãy cho phép trình duyệt dùng micrô.");
          });
      });
      endBtn.addEventListener("click", function () { finish(); });
      window.addEventListener("pagehide", function () { if (session) { finish(); } });
    }
    // Tables read as stacked rows on a phone: each cell carries its column's name (shown by the CSS
    // below 640 px), so nothing is squeezed to one letter per line and nothing scrolls sideways.
    document.querySelectorAll("table.table:not(.commune-grid)").forEach(function (table) {
      var heads = [];
      table.querySelectorAll("thead tr:first-child th").forEach(function (th) {
        for (var n = 0; n < (th.colSpan || 1); n++) { heads.push(th.textContent.trim()); }
      });
      if (!heads.length) { return; }
      table.querySelectorAll("tbody tr, tfoot tr").forEach(function (tr) {
        var column = 0;
        Array.prototype.forEach.call(tr.children, function (cell) {
          if (!cell.hasAttribute("data-label")) { cell.setAttribute("data-label", heads[column] || ""); }
          column += cell.colSpan || 1;
        });
      });
      table.classList.add("stacked");
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  });
})();
