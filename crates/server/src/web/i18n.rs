//! The web UI's words, in Bahasa Indonesia (default) and English. Every
//! string is a field of `Msg`, so a template that names a missing string
//! does not compile, and both languages always have the same set.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use lapor_domain::Lang;
use lapor_domain::calendar::Zone;

macro_rules! catalog {
    ($( $key:ident : $id:literal , $en:literal ; )*) => {
        /// All UI strings of one language.
        pub struct Msg { $( pub $key: &'static str, )* }
        pub static ID: Msg = Msg { $( $key: $id, )* };
        pub static EN: Msg = Msg { $( $key: $en, )* };
    };
}

pub fn msg(lang: Lang) -> &'static Msg {
    match lang {
        Lang::Id => &ID,
        Lang::En => &EN,
    }
}

catalog! {
    lang_code: "id", "en";
    site_tagline: "Layanan Aspirasi dan Pengaduan Online Rakyat", "People's Online Aspiration and Complaint Service";
    skip_link: "Lewati ke isi utama", "Skip to main content";
    nav_label: "Menu utama", "Main menu";
    nav_home: "Beranda", "Home";
    nav_report: "Buat laporan", "File a report";
    nav_track: "Lacak laporan", "Track a report";
    nav_public: "Laporan publik", "Public reports";
    nav_account: "Akun saya", "My account";
    nav_login: "Masuk", "Log in";
    nav_logout: "Keluar", "Log out";
    other_lang_name: "English", "Bahasa Indonesia";
    other_lang_label: "Switch to English", "Ganti ke Bahasa Indonesia";
    footer_data: "Memuat data dari idn-area-data (Kepmendagri 300.2.2-2138/2025), tersedia di bawah ODbL 1.0. Batas wilayah oleh Cahya DSN (MIT). Hari libur dari python-holidays dan hapilibur (MIT). Kata dasar dan stopword dari Sastrawi (MIT).", "Contains data from idn-area-data (Kepmendagri 300.2.2-2138/2025), available under ODbL 1.0. Boundaries by Cahya DSN (MIT). Holidays from python-holidays and hapilibur (MIT). Root words and stopwords from Sastrawi (MIT).";
    footer_api: "API dan dokumentasi", "API and documentation";

    home_title: "Sampaikan laporan Anda", "Tell us what went wrong";
    home_lead: "Setiap laporan diverifikasi, diteruskan ke instansi yang berwenang, dan wajib ditindaklanjuti dalam batas waktu yang ditentukan.", "Every report is verified, forwarded to the competent institution, and must be followed up within set deadlines.";
    home_cta: "Laporkan sekarang", "Report now";
    home_track_title: "Sudah melapor?", "Already reported?";
    home_track_lead: "Lacak laporan Anda dengan ID Pelacakan dan PIN.", "Follow your report with its Tracking ID and PIN.";
    steps_title: "Cara kerja LAPOR!", "How LAPOR! works";
    step1_title: "Tulis laporan", "Write your report";
    step1_desc: "Ceritakan masalahnya dengan jelas dan lengkap: apa, di mana, dan kapan.", "Describe the problem clearly and completely: what, where and when.";
    step2_title: "Verifikasi", "Verification";
    step2_desc: "Admin memverifikasi laporan dan meneruskannya ke instansi berwenang dalam 3 hari kerja.", "Admins verify the report and forward it to the competent institution within 3 working days.";
    step3_title: "Tindak lanjut", "Follow-up";
    step3_desc: "Instansi menindaklanjuti dan membalas laporan Anda dalam batas waktu yang ditentukan.", "The institution follows up and replies within its deadline.";
    step4_title: "Tanggapi", "Respond";
    step4_desc: "Anda dapat menanggapi balasan instansi bila belum tuntas.", "You can respond to the institution's reply if the matter is not resolved.";
    step5_title: "Selesai", "Done";
    step5_desc: "Laporan ditutup dan Anda dapat memberi penilaian.", "The report is closed and you can rate the handling.";
    stats_title: "Laporan dalam angka", "Reports in numbers";
    stat_reports: "Laporan publik", "Public reports";
    stat_in_progress: "Sedang ditindaklanjuti", "Being followed up";
    stat_completed: "Selesai", "Completed";
    stat_institutions: "Instansi terlibat", "Institutions involved";

    form_title: "Buat laporan", "File a report";
    form_lead: "Kolom bertanda * wajib diisi.", "Fields marked * are required.";
    errors_title: "Periksa kembali isian berikut:", "Please check the following:";
    cls_legend: "Jenis laporan *", "Type of report *";
    cls_pengaduan: "Pengaduan", "Complaint";
    cls_pengaduan_desc: "Keluhan atas pelayanan publik yang tidak sesuai standar, misalnya jalan rusak, antrean tanpa kepastian, atau pungutan liar.", "A complaint about a public service below standard, such as a broken road, an endless queue or an illegal fee.";
    cls_aspirasi: "Aspirasi", "Suggestion";
    cls_aspirasi_desc: "Saran atau usulan untuk memperbaiki pelayanan publik.", "A suggestion or proposal to improve a public service.";
    cls_informasi: "Permintaan informasi", "Information request";
    cls_informasi_desc: "Permintaan informasi publik dari instansi pemerintah.", "A request for public information from a government institution.";
    f_title: "Judul laporan *", "Title *";
    f_title_hint: "Ringkas, misalnya: Jalan berlubang di Jl. Setiabudi.", "Short, for example: Potholes on Jl. Setiabudi.";
    f_body: "Isi laporan *", "Report *";
    f_body_hint: "Ceritakan apa yang terjadi, di mana, kapan, dan siapa yang terlibat.", "Say what happened, where, when and who was involved.";
    f_date: "Tanggal kejadian", "Date of the incident";
    loc_legend: "Lokasi kejadian", "Where it happened";
    f_province: "Provinsi", "Province";
    f_regency: "Kabupaten/Kota", "Regency/City";
    f_district: "Kecamatan", "District";
    f_village: "Desa/Kelurahan", "Village";
    choose: "— Pilih —", "— Choose —";
    refresh_regions: "Muat pilihan wilayah", "Load region choices";
    map_label: "Peta lokasi", "Location map";
    map_hint: "Ketuk peta untuk menandai lokasi; kabupaten/kota akan dipilih otomatis. Geser untuk berpindah.", "Tap the map to mark the place; the regency/city is chosen for you. Drag to move around.";
    map_zoom_in: "Perbesar peta", "Zoom in";
    map_zoom_out: "Perkecil peta", "Zoom out";
    f_lat: "Lintang (latitude)", "Latitude";
    f_lon: "Bujur (longitude)", "Longitude";
    coords_hint: "Isi bila Anda tahu koordinatnya, misalnya -6.9025 dan 107.6186.", "Fill in if you know the coordinates, for example -6.9025 and 107.6186.";
    use_my_location: "Gunakan lokasi saya", "Use my location";
    located_in: "Titik berada di", "The point is in";
    located_none: "Titik berada di luar wilayah Indonesia yang dikenal.", "The point is outside the known regions of Indonesia.";
    f_category: "Kategori", "Category";
    f_institution: "Instansi tujuan (opsional)", "Institution (optional)";
    f_institution_hint: "Kosongkan bila ragu; admin akan menentukan instansi yang berwenang.", "Leave empty if unsure; admins will pick the competent institution.";
    suggested: "disarankan", "suggested";
    att_legend: "Lampiran (opsional)", "Attachments (optional)";
    att_hint: "Foto (JPEG, PNG, WebP, GIF), PDF, atau video (MP4, WebM). Paling banyak 5 berkas, masing-masing paling besar 10 MB. Data lokasi (GPS) dan EXIF pada foto dihapus sebelum disimpan.", "Photos (JPEG, PNG, WebP, GIF), PDF or video (MP4, WebM). At most 5 files of at most 10 MB each. Location (GPS) and other EXIF data are removed from photos before they are stored.";
    att_reselect: "Pilih ulang lampiran Anda: berkas tidak ikut terkirim ulang bersama formulir.", "Please choose your attachments again: files are not kept when a form is sent back.";
    privacy_legend: "Privasi", "Privacy";
    anon_label: "Anonim", "Anonymous";
    anon_desc: "Nama dan kontak Anda disembunyikan dari instansi yang menangani dan dari publik. Hanya admin LAPOR! yang dapat melihatnya, dan setiap akses dicatat.", "Your name and contact details are hidden from the handling institution and from the public. Only LAPOR! admins can see them, and every access is logged.";
    conf_label: "Rahasia", "Confidential";
    conf_desc: "Laporan tidak ditampilkan kepada publik sama sekali. Hanya Anda, admin LAPOR!, dan instansi yang menangani yang dapat membacanya.", "The report is never shown to the public. Only you, LAPOR! admins and the handling institution can read it.";
    contact_legend: "Kontak (opsional)", "Contact (optional)";
    contact_hint: "Untuk mengirim ID Pelacakan, PIN, dan kabar perkembangan. Tidak pernah ditampilkan kepada publik.", "Used to send you the Tracking ID, PIN and updates. Never shown to the public.";
    f_name: "Nama", "Name";
    f_email: "Email", "E-mail";
    f_phone: "Nomor telepon", "Phone number";
    pii_title: "Data pribadi dalam laporan", "Personal data in the report";
    pii_found: "Kami menemukan data berikut dalam teks Anda. Data ini akan disamarkan pada tampilan publik:", "We found the following in your text. It will be masked in public view:";
    pii_none: "Tidak ada data pribadi (NIK, telepon, email, nomor kendaraan) yang terdeteksi.", "No personal data (NIK, phone, e-mail, plate number) detected.";
    pii_check: "Periksa data pribadi", "Check for personal data";
    pii_nik: "NIK", "NIK (national ID number)";
    pii_phone: "nomor telepon", "phone number";
    pii_email: "alamat email", "e-mail address";
    pii_plate: "nomor kendaraan", "vehicle plate";
    similar_title: "Laporan serupa", "Similar reports";
    similar_desc: "Masalah ini mungkin sudah dilaporkan. Dukung laporan yang ada agar lebih diperhatikan.", "This may already have been reported. Support the existing report to give it more weight.";
    support: "Dukung", "Support";
    supported: "Anda mendukung laporan ini", "You support this report";
    supporters: "pendukung", "supporters";
    submit: "Kirim laporan", "Send report";

    receipt_title: "Laporan Anda telah diterima", "Your report has been received";
    receipt_lead: "Simpan ID Pelacakan dan PIN ini untuk melacak laporan. PIN hanya ditampilkan sekali.", "Keep this Tracking ID and PIN to follow your report. The PIN is shown only once.";
    tracking_id: "ID Pelacakan", "Tracking ID";
    pin: "PIN", "PIN";
    receipt_sent: "Salinan ID Pelacakan dan PIN akan dikirim ke kontak yang Anda berikan.", "A copy of the Tracking ID and PIN will be sent to the contact you gave.";
    receipt_verify_by: "Laporan akan diverifikasi", "The report will be verified";
    receipt_track: "Lacak laporan ini", "Track this report";

    track_title: "Lacak laporan", "Track a report";
    track_lead: "Masukkan ID Pelacakan dan PIN yang Anda terima saat melapor.", "Enter the Tracking ID and PIN you received when you reported.";
    f_tracking: "ID Pelacakan", "Tracking ID";
    f_pin: "PIN (8 angka)", "PIN (8 digits)";
    track_submit: "Lacak", "Track";
    track_failed: "ID Pelacakan atau PIN tidak cocok.", "The Tracking ID or PIN does not match.";
    status: "Status", "Status";
    deadline: "Tenggat", "Deadline";
    deadline_by: "paling lambat", "at the latest by";
    overdue: "melewati tenggat", "overdue";
    timeline: "Riwayat laporan", "Report history";
    reply_title: "Tanggapi tindak lanjut", "Respond to the follow-up";
    reply_hint: "Sampaikan bila tindak lanjut belum menyelesaikan masalah, atau beri informasi tambahan.", "Say whether the follow-up solved the problem, or add information.";
    reply_submit: "Kirim tanggapan", "Send response";
    rate_title: "Beri penilaian", "Rate the handling";
    rate_label: "Nilai", "Rating";
    rate_comment: "Komentar (opsional)", "Comment (optional)";
    rate_submit: "Kirim penilaian", "Send rating";
    your_rating: "Penilaian Anda", "Your rating";
    reopen_title: "Buka kembali laporan", "Reopen the report";
    reopen_hint: "Bila masalahnya muncul lagi atau belum tuntas, Anda dapat membuka kembali laporan sekali.", "If the problem is back or was not solved, you can reopen the report once.";
    reopen_reason: "Alasan", "Reason";
    reopen_submit: "Buka kembali", "Reopen";
    action_done: "Tersimpan. Terima kasih.", "Saved. Thank you.";
    attachments: "Lampiran", "Attachments";

    public_title: "Laporan publik", "Public reports";
    public_lead: "Laporan yang tidak bersifat rahasia. Data pribadi disamarkan.", "Reports that are not confidential. Personal data is masked.";
    search_label: "Cari laporan", "Search reports";
    search_placeholder: "misalnya: perbaikan jalan", "for example: road repair";
    filters: "Saring", "Filter";
    filter_region: "Wilayah", "Region";
    filter_institution: "Instansi", "Institution";
    filter_category: "Kategori", "Category";
    filter_status: "Status", "Status";
    filter_from: "Dari tanggal", "From";
    filter_to: "Sampai tanggal", "To";
    all: "Semua", "All";
    apply: "Terapkan", "Apply";
    reset: "Hapus saringan", "Clear filters";
    no_results: "Tidak ada laporan yang cocok.", "No matching reports.";
    next_page: "Halaman berikutnya", "Next page";
    anonymous: "Anonim", "Anonymous";
    reporter: "Pelapor", "Reporter";
    institution: "Instansi", "Institution";
    region: "Wilayah", "Region";
    category: "Kategori", "Category";
    submitted_on: "Dikirim", "Submitted";
    classification: "Jenis", "Type";
    not_assigned: "belum ditentukan", "not yet assigned";

    login_title: "Masuk", "Log in";
    f_login: "Email atau nomor telepon", "E-mail or phone number";
    f_password: "Kata sandi", "Password";
    login_submit: "Masuk", "Log in";
    no_account: "Belum punya akun?", "No account yet?";
    register_link: "Daftar di sini", "Register here";
    register_title: "Daftar akun", "Create an account";
    register_lead: "Akun tidak wajib untuk melapor, tetapi memudahkan Anda mengikuti semua laporan Anda.", "You don't need an account to report, but it lets you follow all your reports in one place.";
    password_hint: "Minimal 10 karakter.", "At least 10 characters.";
    register_submit: "Daftar", "Register";
    have_account: "Sudah punya akun?", "Already have an account?";
    account_title: "Akun saya", "My account";
    my_reports: "Laporan saya", "My reports";
    my_reports_none: "Anda belum membuat laporan dengan akun ini.", "You have not filed a report with this account yet.";
    prefs_title: "Pemberitahuan", "Notifications";
    notify_email: "Kirim kabar perkembangan lewat email", "Send updates by e-mail";
    notify_sms: "Kirim kabar perkembangan lewat SMS", "Send updates by SMS";
    save: "Simpan", "Save";
    download_title: "Unduh data saya", "Download my data";
    download_desc: "Salinan semua data pribadi Anda yang kami simpan, sesuai hak subjek data dalam UU No. 27 Tahun 2022 tentang Pelindungan Data Pribadi.", "A copy of all personal data we hold about you, as the Personal Data Protection Law (UU 27/2022) entitles you to.";
    download: "Unduh (JSON)", "Download (JSON)";

    error_title: "Terjadi kesalahan", "Something went wrong";
    not_found_title: "Halaman tidak ditemukan", "Page not found";
    back_home: "Kembali ke beranda", "Back to the home page";

    st_submitted: "Menunggu verifikasi", "Awaiting verification";
    st_on_hold: "Menunggu kelengkapan dari pelapor", "Waiting for more information";
    st_dispositioned: "Diteruskan ke instansi", "Forwarded to the institution";
    st_in_progress: "Sedang ditindaklanjuti", "Being followed up";
    st_responded: "Dibalas instansi", "Answered by the institution";
    st_completed: "Selesai", "Completed";
    st_archived: "Diarsipkan", "Archived";
    st_merged: "Digabung dengan laporan lain", "Merged with another report";

    ev_submitted: "Laporan dikirim", "Report submitted";
    ev_dispositioned: "Diteruskan ke instansi", "Forwarded to an institution";
    ev_put_on_hold: "Diminta melengkapi laporan", "More information requested";
    ev_resumed: "Diproses kembali", "Resumed";
    ev_accepted: "Diterima instansi", "Accepted by the institution";
    ev_dispositioned_to_unit: "Diteruskan ke unit kerja", "Forwarded to a unit";
    ev_transferred: "Dialihkan ke instansi lain", "Transferred to another institution";
    ev_followed_up: "Tindak lanjut instansi", "Follow-up by the institution";
    ev_reporter_replied: "Tanggapan pelapor", "Reporter's response";
    ev_rated: "Penilaian pelapor", "Reporter's rating";
    ev_completed: "Laporan selesai", "Report completed";
    ev_archived: "Laporan diarsipkan", "Report archived";
    ev_merged: "Digabung dengan laporan lain", "Merged with another report";
    ev_reopened: "Laporan dibuka kembali", "Report reopened";
    ev_edited: "Judul atau isi disunting admin", "Title or text edited by an admin";
    ev_privacy_changed: "Privasi pelapor diperketat", "Reporter privacy tightened";
    ev_redacted: "Data pribadi disamarkan", "Personal data redacted";
    ev_note_added: "Catatan internal", "Internal note";
    ev_extended: "Batas waktu diperpanjang", "Deadline extended";
    ev_liaison_assigned: "Ditugaskan ke petugas penghubung", "Assigned to a liaison officer";
    ev_reminded: "Pengingat batas waktu dikirim", "Deadline reminder sent";
    ev_escalated: "Dieskalasi karena melewati batas waktu", "Escalated: deadline missed";
    ev_ombudsman_offered: "Eskalasi ke Ombudsman ditawarkan", "Escalation to the Ombudsman offered";
    ev_ombudsman_escalated: "Dieskalasi ke Ombudsman atas persetujuan pelapor", "Escalated to the Ombudsman with the reporter's consent";

    step_liaison: "petugas penghubung", "liaison officer";
    step_institution_admin: "admin instansi", "institution admin";
    step_supervisor: "instansi pembina (atasan)", "supervising institution";
    step_national_admin: "admin nasional", "national admin";

    stage_verification: "verifikasi oleh admin", "verification by admins";
    stage_acceptance: "penerimaan oleh instansi", "acceptance by the institution";
    stage_follow_up: "tindak lanjut oleh instansi", "follow-up by the institution";
    stage_reporter_reply: "tanggapan Anda", "your response";
    stage_reopen_window: "batas membuka kembali", "reopening window";
}

impl Msg {
    pub fn status(&self, s: &str) -> &'static str {
        match s {
            "submitted" => self.st_submitted,
            "on_hold" => self.st_on_hold,
            "dispositioned" => self.st_dispositioned,
            "in_progress" => self.st_in_progress,
            "responded" => self.st_responded,
            "completed" => self.st_completed,
            "archived" => self.st_archived,
            "merged" => self.st_merged,
            _ => "",
        }
    }

    pub fn event(&self, kind: &str) -> &'static str {
        match kind {
            "submitted" => self.ev_submitted,
            "dispositioned" => self.ev_dispositioned,
            "put_on_hold" => self.ev_put_on_hold,
            "resumed" => self.ev_resumed,
            "accepted" => self.ev_accepted,
            "dispositioned_to_unit" => self.ev_dispositioned_to_unit,
            "transferred" => self.ev_transferred,
            "followed_up" => self.ev_followed_up,
            "reporter_replied" => self.ev_reporter_replied,
            "rated" => self.ev_rated,
            "completed" => self.ev_completed,
            "archived" => self.ev_archived,
            "merged" => self.ev_merged,
            "reopened" => self.ev_reopened,
            "edited" => self.ev_edited,
            "privacy_changed" => self.ev_privacy_changed,
            "redacted" => self.ev_redacted,
            "note_added" => self.ev_note_added,
            "extended" => self.ev_extended,
            "liaison_assigned" => self.ev_liaison_assigned,
            "reminded" => self.ev_reminded,
            "escalated" => self.ev_escalated,
            "ombudsman_offered" => self.ev_ombudsman_offered,
            "ombudsman_escalated" => self.ev_ombudsman_escalated,
            _ => "",
        }
    }

    pub fn step(&self, s: &str) -> &'static str {
        match s {
            "liaison" => self.step_liaison,
            "institution_admin" => self.step_institution_admin,
            "supervisor" => self.step_supervisor,
            "national_admin" => self.step_national_admin,
            _ => "",
        }
    }

    pub fn stage(&self, s: &str) -> &'static str {
        match s {
            "verification" => self.stage_verification,
            "acceptance" => self.stage_acceptance,
            "follow_up" => self.stage_follow_up,
            "reporter_reply" => self.stage_reporter_reply,
            "reopen_window" => self.stage_reopen_window,
            _ => "",
        }
    }

    pub fn classification(&self, c: &str) -> &'static str {
        match c {
            "pengaduan" => self.cls_pengaduan,
            "aspirasi" => self.cls_aspirasi,
            "permintaan_informasi" => self.cls_informasi,
            _ => "",
        }
    }

    pub fn pii(&self, kind: lapor_domain::pii::PiiKind) -> &'static str {
        use lapor_domain::pii::PiiKind;
        match kind {
            PiiKind::Nik => self.pii_nik,
            PiiKind::Phone => self.pii_phone,
            PiiKind::Email => self.pii_email,
            PiiKind::VehiclePlate => self.pii_plate,
        }
    }
}

const DAYS_ID: [&str; 7] = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"];
const DAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS_ID: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "Jumat, 12 Desember 2026" / "Friday, 12 December 2026".
pub fn long_date(d: NaiveDate, lang: Lang) -> String {
    let (days, months) = match lang {
        Lang::Id => (DAYS_ID, MONTHS_ID),
        Lang::En => (DAYS_EN, MONTHS_EN),
    };
    format!(
        "{}, {} {} {}",
        days[d.weekday().num_days_from_monday() as usize],
        d.day(),
        months[d.month0() as usize],
        d.year()
    )
}

/// "12 Des 2026" style short date in the given zone.
pub fn short_date(t: DateTime<Utc>, zone: Zone, lang: Lang) -> String {
    let d = t.with_timezone(&zone.offset()).date_naive();
    let months = match lang {
        Lang::Id => MONTHS_ID,
        Lang::En => MONTHS_EN,
    };
    let m = months[d.month0() as usize];
    format!("{} {} {}", d.day(), m.get(..3).unwrap_or(m), d.year())
}

/// A deadline in words, in the zone whose clock runs it:
/// "Jumat, 12 Desember 2026 pukul 23.59 WIB".
pub fn deadline_words(t: DateTime<Utc>, zone: Zone, lang: Lang) -> String {
    let local = t.with_timezone(&zone.offset());
    let time = match lang {
        Lang::Id => format!("pukul {}", local.format("%H.%M")),
        Lang::En => format!("at {}", local.format("%H:%M")),
    };
    format!("{} {time} {}", long_date(local.date_naive(), lang), zone.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_words() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 11).unwrap();
        assert_eq!(long_date(d, Lang::Id), "Jumat, 11 Desember 2026");
        assert_eq!(long_date(d, Lang::En), "Friday, 11 December 2026");
        // 16:59 UTC is 23:59 in Jakarta.
        let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 11, 16, 59, 0).unwrap();
        assert_eq!(
            deadline_words(t, Zone::Wib, Lang::Id),
            "Jumat, 11 Desember 2026 pukul 23.59 WIB"
        );
        assert_eq!(short_date(t, Zone::Wit, Lang::Id), "12 Des 2026");
    }

    #[test]
    fn every_status_and_event_has_words() {
        for s in [
            "submitted",
            "on_hold",
            "dispositioned",
            "in_progress",
            "responded",
            "completed",
            "archived",
            "merged",
        ] {
            assert!(!ID.status(s).is_empty() && !EN.status(s).is_empty(), "{s}");
        }
        assert_ne!(ID.submit, EN.submit);
    }
}
